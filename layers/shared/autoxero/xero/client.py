"""The Xero adapter: what autoxero reads from and writes to Xero, over the transport (xero/transport.py:
timeouts, retries, rate limits, pacing).

- responses are read raw into autoxero's tolerant models, never the SDK's (unknown-enum defect);
- writes go in batches of at most 50 with summarizeErrors=false and an Idempotency-Key derived from the
  batch's content, and come back as one outcome per record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel
from xero_python.exceptions import ApiException

from autoxero.xero import models
from autoxero.xero.errors import XeroError, XeroNotFound
from autoxero.xero.transport import NETWORK_ERRORS, TokenGetter, XeroTransport, validation_messages

__all__ = ["TokenGetter", "WriteOutcome", "XeroClient", "content_key", "quote_where"]

BATCH_SIZE = 50
PAGE_SIZE = 100
# The most a page may hold (Xero's `pageSize`, "allowed values are 1 to 1000": the CData Xero driver's
# documentation, https://cdn.cdata.com/help/DXM/py/RSBXero_p_Pagesize.htm; the parameter is in the vendored
# spec, tests/contract/specs/xero_accounting.yaml). For a reader of whole lists, e.g. the reconciliation.
MAX_PAGE_SIZE = 1000
IDS_PER_CALL = 50  # IDs= is capped near 52 GUIDs by URL length
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class WriteOutcome[T]:
    """One record's result in a batch write: the record Xero returned, or Xero's messages."""

    index: int
    record: T | None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.record is not None and not self.errors


def content_key(scope: str, body: Any) -> str:
    """A deterministic Idempotency-Key: the same batch content always carries the same key."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return f"autoxero-{scope}-{digest[:48]}"


def quote_where(value: str) -> str:
    """A string literal for Xero's `where` filter. Xero's strings have no escapes (XeroAPI/Xero-Java#347: a
    backslash-escaped quote is a 400 "Syntax error"): a backslash stands for itself, and text containing a
    `"` cannot be looked up this way at all, so it is refused here (autoxero writes none: see
    `mapping.common.findable`)."""
    if '"' in value:
        raise ValueError(f"Xero's where filter cannot express text containing a double quote: {value!r}")
    return f'"{value}"'


class XeroClient(XeroTransport):
    """One Xero organisation, as autoxero reads and writes it."""

    # ------------------------------------------------------------------ the one way a call is made

    def _call(self, api: Any, operation: str, *args: Any, tenant: bool = True, **kwargs: Any) -> dict[str, Any]:
        method = getattr(api, operation)
        params = {k: v for k, v in kwargs.items() if v is not None}
        attempt = 0
        waited = 0.0
        while True:
            self._pace()
            self.calls[operation] += 1
            try:
                call_args = ((self._tenant_id or "",) if tenant else ()) + args
                response, _status, headers = method(*call_args, _preload_content=False,
                                                    _return_http_data_only=False,
                                                    _request_timeout=self._timeout, **params)
                self.headroom.note(headers)
                raw = response.data or b"{}"
                answer = json.loads(raw, parse_float=Decimal)
                return answer if isinstance(answer, dict) else {"items": answer}
            except ApiException as err:
                delay = self._classify(operation, err, attempt, waited, keyed="idempotency_key" in params)
            except NETWORK_ERRORS as err:
                delay = self._backoff(operation, f"network error ({type(err).__name__})", attempt, waited)
            attempt += 1
            waited += delay
            self.waited_seconds += delay
            self._sleep(delay)

    # ------------------------------------------------------------------ reads

    def _records(self, answer: dict[str, Any], key: str, model: type[M]) -> list[M]:
        return [model.model_validate(item) for item in answer.get(key) or []]

    def pages(self, operation: str, key: str, model: type[M], page_size: int = PAGE_SIZE,
              **params: Any) -> Iterator[M]:
        """Every page of a paged GET (with line items), until a short page."""
        page = 1
        while True:
            records = self._records(self._call(self._accounting, operation, page=page, page_size=page_size,
                                               **params), key, model)
            yield from records
            if len(records) < page_size:
                return
            page += 1

    def invoices_by_id(self, ids: Iterable[str]) -> list[models.Invoice]:
        wanted = list(dict.fromkeys(ids))
        found: list[models.Invoice] = []
        for start in range(0, len(wanted), IDS_PER_CALL):
            answer = self._call(self._accounting, "get_invoices", i_ds=wanted[start:start + IDS_PER_CALL],
                                page=1, page_size=PAGE_SIZE, unitdp=4)
            found.extend(self._records(answer, "Invoices", models.Invoice))
        return found

    def invoices_by_number(self, numbers: Iterable[str], statuses: list[str] | None = None) -> list[models.Invoice]:
        wanted = list(dict.fromkeys(numbers))
        found: list[models.Invoice] = []
        for start in range(0, len(wanted), IDS_PER_CALL):
            answer = self._call(self._accounting, "get_invoices",
                                invoice_numbers=wanted[start:start + IDS_PER_CALL], statuses=statuses,
                                page=1, page_size=PAGE_SIZE, unitdp=4)
            found.extend(self._records(answer, "Invoices", models.Invoice))
        return found

    def invoices(self, *, where: str | None = None, modified_since: datetime | None = None,
                 statuses: list[str] | None = None, page_size: int = PAGE_SIZE) -> Iterator[models.Invoice]:
        return self.pages("get_invoices", "Invoices", models.Invoice, page_size, where=where, statuses=statuses,
                          if_modified_since=modified_since, unitdp=4)

    def contacts(self, *, where: str | None = None, ids: list[str] | None = None,
                 include_archived: bool = True, modified_since: datetime | None = None) -> Iterator[models.Contact]:
        return self.pages("get_contacts", "Contacts", models.Contact, where=where, i_ds=ids,
                          include_archived=include_archived, if_modified_since=modified_since)

    def credit_notes(self, *, where: str | None = None, modified_since: datetime | None = None,
                     page_size: int = PAGE_SIZE) -> Iterator[models.CreditNote]:
        return self.pages("get_credit_notes", "CreditNotes", models.CreditNote, page_size, where=where,
                          if_modified_since=modified_since, unitdp=4)

    def purchase_orders(self, *, modified_since: datetime | None = None,
                        date_from: date | None = None) -> Iterator[models.PurchaseOrder]:
        return self.pages("get_purchase_orders", "PurchaseOrders", models.PurchaseOrder,
                          if_modified_since=modified_since, date_from=date_from.isoformat() if date_from else None)

    def purchase_order(self, *, purchase_order_id: str | None = None,
                       number: str | None = None) -> models.PurchaseOrder | None:
        """One purchase order by id or by number (Xero has no IDs= filter for them)."""
        try:
            if purchase_order_id:
                answer = self._call(self._accounting, "get_purchase_order", purchase_order_id)
            else:
                answer = self._call(self._accounting, "get_purchase_order_by_number", number)
        except XeroNotFound:
            return None
        records = self._records(answer, "PurchaseOrders", models.PurchaseOrder)
        return records[0] if records else None

    def payments(self, *, modified_since: datetime | None = None,
                 where: str | None = None) -> Iterator[models.Payment]:
        return self.pages("get_payments", "Payments", models.Payment, if_modified_since=modified_since, where=where)

    def accounts(self) -> list[models.Account]:
        return self._records(self._call(self._accounting, "get_accounts"), "Accounts", models.Account)

    def tax_rates(self) -> list[models.TaxRate]:
        return self._records(self._call(self._accounting, "get_tax_rates"), "TaxRates", models.TaxRate)

    def items(self) -> list[models.Item]:
        return self._records(self._call(self._accounting, "get_items", unitdp=4), "Items", models.Item)

    def tracking_categories(self) -> list[models.TrackingCategory]:
        return self._records(self._call(self._accounting, "get_tracking_categories"), "TrackingCategories",
                             models.TrackingCategory)

    def branding_themes(self) -> list[models.BrandingTheme]:
        return self._records(self._call(self._accounting, "get_branding_themes"), "BrandingThemes",
                             models.BrandingTheme)

    def currencies(self) -> list[models.Currency]:
        return self._records(self._call(self._accounting, "get_currencies"), "Currencies", models.Currency)

    def organisation(self) -> models.Organisation:
        records = self._records(self._call(self._accounting, "get_organisations"), "Organisations",
                                models.Organisation)
        if not records:
            raise XeroError("Xero returned no organisation for this connection")
        return records[0]

    def connections(self) -> list[models.Connection]:
        answer = self._call(self._identity, "get_connections", tenant=False)
        return [models.Connection.model_validate(c) for c in answer.get("items", [])]

    # ------------------------------------------------------------------ writes

    def write(self, operation: str, key: str, model: type[M], records: list[dict[str, Any]],
              **params: Any) -> list[WriteOutcome[M]]:
        """Batches of at most 50, summarizeErrors=false, one outcome per record in the order given."""
        outcomes: list[WriteOutcome[M]] = []
        for start in range(0, len(records), BATCH_SIZE):
            chunk = records[start:start + BATCH_SIZE]
            body = {key: chunk}
            answer = self._call(self._accounting, operation, body, summarize_errors=False,
                                idempotency_key=content_key(operation, body), **params)
            returned = answer.get(key) or []
            for offset in range(len(chunk)):
                index = start + offset
                if offset >= len(returned):
                    outcomes.append(WriteOutcome(index, None, ["Xero returned no result for this record"]))
                    continue
                record = model.model_validate(returned[offset])
                errors = validation_messages(returned[offset])
                failed = bool(errors) or returned[offset].get("StatusAttributeString") == "ERROR"
                outcomes.append(WriteOutcome(index, None if failed else record,
                                             errors or (["Xero rejected this record"] if failed else [])))
        return outcomes

    def create_contacts(self, contacts: list[dict[str, Any]]) -> list[WriteOutcome[models.Contact]]:
        return self.write("create_contacts", "Contacts", models.Contact, contacts)

    def update_contacts(self, contacts: list[dict[str, Any]]) -> list[WriteOutcome[models.Contact]]:
        return self.write("update_or_create_contacts", "Contacts", models.Contact, contacts)

    def create_invoices(self, invoices: list[dict[str, Any]]) -> list[WriteOutcome[models.Invoice]]:
        return self.write("create_invoices", "Invoices", models.Invoice, invoices, unitdp=4)

    def update_invoices(self, invoices: list[dict[str, Any]]) -> list[WriteOutcome[models.Invoice]]:
        return self.write("update_or_create_invoices", "Invoices", models.Invoice, invoices, unitdp=4)

    def create_credit_notes(self, notes: list[dict[str, Any]]) -> list[WriteOutcome[models.CreditNote]]:
        return self.write("create_credit_notes", "CreditNotes", models.CreditNote, notes, unitdp=4)

    def create_purchase_orders(self, orders: list[dict[str, Any]]) -> list[WriteOutcome[models.PurchaseOrder]]:
        return self.write("create_purchase_orders", "PurchaseOrders", models.PurchaseOrder, orders)

    def update_purchase_orders(self, orders: list[dict[str, Any]]) -> list[WriteOutcome[models.PurchaseOrder]]:
        return self.write("update_or_create_purchase_orders", "PurchaseOrders", models.PurchaseOrder, orders)

    def create_items(self, items: list[dict[str, Any]]) -> list[WriteOutcome[models.Item]]:
        return self.write("create_items", "Items", models.Item, items, unitdp=4)
