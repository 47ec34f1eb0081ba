"""Reading Autotask records one at a time: a record the models cannot read is set aside, not fatal.

A query answers a page of records; one of them may be malformed (an invoice with `companyID: null`, a company
with a null `companyName`). Each record is validated on its own: the good ones are yielded, the bad one is
described in a finance person's words and handed to a `RecordWatcher` (a flow run puts it on the attention list),
so the rest of the page, and of the run, goes on. Without a watcher (the CLI, one-off reads) a malformed record is
a clear `AutotaskValidationError` naming it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from autoxero.autotask.errors import AutotaskValidationError

MALFORMED_CODE = "autotask_malformed"
_NOUNS = {"Companies": "company", "Contacts": "contact", "Invoices": "invoice", "BillingItems": "billing item",
          "PurchaseOrders": "purchase order", "PurchaseOrderItems": "purchase order item",
          "BillingCodes": "billing code", "Products": "product", "Taxes": "tax", "TaxCategories": "tax category",
          "TaxRegions": "tax region", "PaymentTerms": "payment term", "InvoiceTemplates": "invoice template"}
_WHAT = {"missing": "is empty", "int_parsing": "is not a whole number", "int_type": "is not a whole number",
         "int_from_float": "is not a whole number", "decimal_parsing": "is not a number",
         "decimal_type": "is not a number", "string_type": "is not text", "bool_parsing": "is not yes/no",
         "bool_type": "is not yes/no", "datetime_from_date_parsing": "is not a date and time",
         "datetime_parsing": "is not a date and time", "datetime_type": "is not a date and time",
         "list_type": "is not a list", "dict_type": "is not a set of fields"}


@dataclass(frozen=True, slots=True)
class MalformedRecord:
    """An Autotask record the sync cannot read, and why."""

    entity: str
    record_id: int | None
    problems: tuple[str, ...]

    @property
    def noun(self) -> str:
        return _NOUNS.get(self.entity, self.entity)

    @property
    def label(self) -> str:
        return f"Autotask {self.noun} {self.record_id if self.record_id is not None else '(no id)'}"

    @property
    def message(self) -> str:
        return f"{self.label} cannot be read: {'; '.join(self.problems)}. It is skipped; everything else syncs."

    @property
    def fix(self) -> str:
        return (f"Correct the {self.noun} in Autotask; the next run picks it up and clears this item. If Autotask "
                "will not let you fill the field in, tell support which field it is.")


class RecordWatcher(Protocol):
    """Told about every record of a read: set aside (malformed) or read (well formed)."""

    def malformed(self, record: MalformedRecord) -> None: ...

    def well_formed(self, entity: str, record_id: int) -> None: ...


def _problems(err: ValidationError) -> tuple[str, ...]:
    out: list[str] = []
    for error in err.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error.get("loc", ())) or "the record"
        what = _WHAT.get(str(error.get("type")), "is not a valid value")
        problem = f"{where} {what}"
        if problem not in out:
            out.append(problem)
    return tuple(out)


def _record_id(item: Mapping[str, Any]) -> int | None:
    value = item.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def validate_each[M: BaseModel](entity: str, model: type[M], items: Iterable[Any],
                                watcher: RecordWatcher | None) -> Iterator[M]:
    """Each item as `model`; a malformed one goes to `watcher` (or, with none, stops here with a clear error)."""
    for item in items:
        record_id = _record_id(item) if isinstance(item, Mapping) else None
        try:
            record = model.model_validate(item)
        except ValidationError as err:
            malformed = MalformedRecord(entity, record_id, _problems(err))
            if watcher is None:
                raise AutotaskValidationError(malformed.message, entity=entity) from None
            watcher.malformed(malformed)
            continue
        if watcher is not None and record_id is not None:
            watcher.well_formed(entity, record_id)
        yield record
