"""The Accounting API operations: reads (filters, paging, If-Modified-Since, unitdp) and writes (batches,
summarizeErrors, create-or-update matching). Each operation takes the organisation and the parsed call and
returns (HTTP status, JSON body without the envelope); refusals are raised as `XeroError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from starlette.datastructures import Headers

from . import payload as schema
from .contacts import CONTACT_FIELDS, find_for_upsert, render_contact, upsert_contact
from .documents import (
    CREDIT_NOTE_FIELDS,
    CREDIT_NOTES,
    INVOICE_FIELDS,
    INVOICES,
    PURCHASE_ORDER_FIELDS,
    PURCHASE_ORDERS,
    DocKind,
    document_view,
    find_by_number,
    render_document,
    save_document,
)
from .org import Org, Record, ValidationFailed, WriteContext
from .payments import (
    PAYMENT_FIELDS,
    create_allocation,
    create_payment,
    delete_allocation,
    delete_payment,
    payment_view,
    render_allocation,
    render_payment,
)
from .reference import (
    ACCOUNT_FIELDS,
    BRANDING_FIELDS,
    CURRENCY_FIELDS,
    ITEM_FIELDS,
    TAX_RATE_FIELDS,
    TRACKING_FIELDS,
    render_account,
    render_branding_theme,
    render_currency,
    render_item,
    render_organisation,
    render_tax_rate,
    render_tracking_category,
    upsert_item,
)
from .where import FieldTypes, compile_order, compile_where
from .wire import (
    bad_parameter,
    is_uuid,
    json_invalid,
    loads,
    ms_date,
    not_found,
    parse_instant,
    post_data_invalid,
    validation_exception,
)

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass
class Call:
    method: str
    path: str
    route: str
    query: list[tuple[str, str]]
    headers: Headers
    body: bytes
    path_params: dict[str, str]
    base_url: str

    def param(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.query if k.lower() == wanted), None)

    def flag(self, name: str) -> bool:
        return (self.param(name) or "").strip().lower() == "true"

    @property
    def unitdp(self) -> int:
        return 4 if (self.param("unitdp") or "").strip() == "4" else 2

    @property
    def summarize_errors(self) -> bool:
        return (self.param("summarizeErrors") or "").strip().lower() != "false"

    def json(self) -> Any:
        if not self.body.strip():
            raise post_data_invalid("The request body is empty; JSON for post data was expected.")
        try:
            return loads(self.body)
        except UnicodeDecodeError as exc:
            raise json_invalid("Invalid character in the request body.") from exc
        except ValueError as exc:
            raise json_invalid(f"Unexpected character encountered while parsing value: {exc}.") from exc


Result = tuple[int, dict[str, Any]]


def _csv(call: Call, name: str, *, uuids: bool = False) -> list[str] | None:
    raw = call.param(name)
    if raw is None:
        return None
    values = [v.strip().strip('"').strip() for v in raw.split(",") if v.strip().strip('"').strip()]
    if uuids:
        if not all(is_uuid(v) for v in values):
            raise bad_parameter(name, "UUID")
        values = [v.lower() for v in values]
    return values


def _int_param(call: Call, name: str) -> int | None:
    raw = call.param(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise bad_parameter(name, "Int32") from exc


def _modified_since(call: Call) -> datetime | None:
    raw = call.headers.get("if-modified-since")
    if not raw:
        return None
    try:
        return parse_instant(raw)
    except (ValueError, TypeError, IndexError) as exc:
        raise bad_parameter("If-Modified-Since", "DateTime") from exc


# ---------------------------------------------------------------------------------------------- reads


@dataclass
class Collection:
    name: str
    type_name: str
    fields: FieldTypes
    records: Callable[[Org], Iterable[Record]]
    render: Callable[[Org, Record, Call, bool], Record]
    view: Callable[[Org, Record], Record] = lambda org, r: r
    modified: str | None = "UpdatedDateUTC"
    where: bool = True
    pageable: bool = False
    lines_when_paged: bool = False
    ids: str | None = None
    filters: dict[str, tuple[str, bool]] = field(default_factory=dict)  # param -> (record key, uuid values)
    search: tuple[str, ...] = ()
    archived: Callable[[Record], bool] | None = None
    custom: Callable[[Call, Record], bool] | None = None


def list_records(org: Org, call: Call, spec: Collection) -> Result:
    records = list(spec.records(org))
    since = _modified_since(call) if spec.modified else None
    if since is not None:
        records = [r for r in records if r[spec.modified] > since]  # type: ignore[index]
    ids = _csv(call, "IDs", uuids=True) if spec.ids else None
    if ids is not None:
        records = [r for r in records if str(r[spec.ids]).lower() in ids]  # type: ignore[index]
    for param, (key, uuids) in spec.filters.items():
        values = _csv(call, param, uuids=uuids)
        if values is not None:
            wanted = {v.casefold() for v in values}
            records = [r for r in records if str(r.get(key, "")).casefold() in wanted]
    if spec.archived is not None and ids is None and not call.flag("includeArchived"):
        records = [r for r in records if not spec.archived(r)]
    if spec.custom is not None:
        records = [r for r in records if spec.custom(call, r)]
    term = call.param("searchTerm") if spec.search else None
    if term:
        needle = term.casefold()
        records = [r for r in records if any(needle in str(r.get(k) or "").casefold() for k in spec.search)]
    views = [spec.view(org, r) for r in records]
    where = call.param("where") if spec.where else None
    if where is not None and where.strip():
        predicate = compile_where(where, spec.fields, spec.type_name)
        views = [v for v in views if predicate(v)]
    order = call.param("order")
    if order is not None and order.strip():
        views = compile_order(order, spec.fields, spec.type_name)(views)

    body: dict[str, Any] = {}
    paged = False
    if spec.pageable:
        page, size = _int_param(call, "page"), _int_param(call, "pageSize")
        if page is not None or size is not None:
            paged = True
            page = max(1, page or 1)
            size = min(MAX_PAGE_SIZE, max(1, size)) if size is not None else PAGE_SIZE
            total = len(views)
            views = views[(page - 1) * size: page * size]
            body["pagination"] = {"page": page, "pageSize": size, "pageCount": math.ceil(total / size),
                                  "itemCount": total}
    with_lines = (paged or not spec.lines_when_paged) and not call.flag("summaryOnly")
    body[spec.name] = [spec.render(org, v, call, with_lines) for v in views]
    return 200, body


def _doc_render(kind: DocKind) -> Callable[[Org, Record, Call, bool], Record]:
    def render(org: Org, record: Record, call: Call, lines: bool) -> Record:
        return render_document(org, kind, record, unitdp=call.unitdp, lines=lines)
    return render


def _po_filter(call: Call, record: Record) -> bool:
    status = call.param("Status")
    if status and record["Status"] != status.strip().upper():
        return False
    for name, test in (("DateFrom", lambda d, x: d >= x), ("DateTo", lambda d, x: d <= x)):
        raw = call.param(name)
        if raw:
            try:
                bound = date.fromisoformat(raw.strip()[:10])
            except ValueError as exc:
                raise bad_parameter(name, "DateTime") from exc
            if not test(record["Date"], bound):
                return False
    return True


def _ordered(store: dict[str, Record]) -> list[Record]:
    return sorted(store.values(), key=lambda r: r.get("_seq", 0))


COLLECTIONS: dict[str, Collection] = {
    "Invoices": Collection(
        "Invoices", "Invoice", INVOICE_FIELDS, lambda org: _ordered(org.invoices), _doc_render(INVOICES),
        view=document_view, pageable=True, lines_when_paged=True, ids="InvoiceID",
        filters={"InvoiceNumbers": ("InvoiceNumber", False), "ContactIDs": ("ContactID", True),
                 "Statuses": ("Status", False)},
        search=("InvoiceNumber", "Reference")),
    "CreditNotes": Collection(
        "CreditNotes", "CreditNote", CREDIT_NOTE_FIELDS, lambda org: _ordered(org.credit_notes),
        _doc_render(CREDIT_NOTES), view=document_view, pageable=True, lines_when_paged=True),
    "PurchaseOrders": Collection(
        "PurchaseOrders", "PurchaseOrder", PURCHASE_ORDER_FIELDS, lambda org: _ordered(org.purchase_orders),
        _doc_render(PURCHASE_ORDERS), view=document_view, where=False, pageable=True, custom=_po_filter),
    "Contacts": Collection(
        "Contacts", "Contact", CONTACT_FIELDS, lambda org: list(org.contacts.values()),
        lambda org, r, call, lines: render_contact(r), pageable=True, ids="ContactID",
        search=("Name", "FirstName", "LastName", "ContactNumber", "CompanyNumber", "EmailAddress"),
        archived=lambda r: r["ContactStatus"] == "ARCHIVED"),
    "Payments": Collection(
        "Payments", "Payment", PAYMENT_FIELDS, lambda org: _ordered(org.payments),
        lambda org, r, call, lines: render_payment(org, r), view=payment_view, pageable=True),
    "Items": Collection(
        "Items", "Item", ITEM_FIELDS, lambda org: list(org.items.values()),
        lambda org, r, call, lines: render_item(r, call.unitdp)),
    "Accounts": Collection(
        "Accounts", "Account", ACCOUNT_FIELDS, lambda org: list(org.accounts.values()),
        lambda org, r, call, lines: render_account(r)),
    "TaxRates": Collection(
        "TaxRates", "TaxRate", TAX_RATE_FIELDS, lambda org: list(org.tax_rates.values()),
        lambda org, r, call, lines: render_tax_rate(r), modified=None, filters={"TaxType": ("TaxType", False)}),
    "TrackingCategories": Collection(
        "TrackingCategories", "TrackingCategory", TRACKING_FIELDS, lambda org: list(org.tracking.values()),
        lambda org, r, call, lines: render_tracking_category(
            r, include_archived=call.flag("includeArchived")), modified=None,
        archived=lambda r: r["Status"] != "ACTIVE"),
    "BrandingThemes": Collection(
        "BrandingThemes", "BrandingTheme", BRANDING_FIELDS,
        lambda org: sorted(org.branding.values(), key=lambda r: r["SortOrder"]),
        lambda org, r, call, lines: render_branding_theme(r), modified=None, where=False),
    "Currencies": Collection(
        "Currencies", "Currency", CURRENCY_FIELDS, lambda org: list(org.currencies.values()),
        lambda org, r, call, lines: render_currency(r), modified=None),
}


def get_collection(org: Org, call: Call, name: str) -> Result:
    return list_records(org, call, COLLECTIONS[name])


def get_organisation(org: Org, call: Call) -> Result:
    return 200, {"Organisations": [render_organisation(org)]}


def _find(org: Org, name: str, key: str) -> Record | None:
    """One record by its id (or by its number/code where Xero allows that in the path)."""
    low = key.lower()
    if name == "Invoices":
        return org.invoices.get(low) or find_by_number(org, INVOICES, key)
    if name == "CreditNotes":
        return org.credit_notes.get(low) or find_by_number(org, CREDIT_NOTES, key)
    if name == "PurchaseOrders":
        return org.purchase_orders.get(low) or find_by_number(org, PURCHASE_ORDERS, key)
    if name == "Contacts":
        return org.contacts.get(low) or org.contact_by_number(key)
    if name == "Items":
        return org.items.get(low) or org.item_by_code(key)
    if name == "TaxRates":
        return org.tax_rate(key)
    table: dict[str, dict[str, Record]] = {"Payments": org.payments, "Accounts": org.accounts,
                                           "TrackingCategories": org.tracking, "BrandingThemes": org.branding}
    return table[name].get(low)


def get_one(org: Org, call: Call, name: str, key: str) -> Result:
    record = _find(org, name, key)
    if record is None:
        raise not_found()
    spec = COLLECTIONS[name]
    return 200, {name: [spec.render(org, spec.view(org, record), call, True)]}


# ---------------------------------------------------------------------------------------------- writes


def _echo(value: Any) -> Any:
    """A submitted element rendered back the way Xero echoes it (dates as /Date()/)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(item, date) and not isinstance(item, datetime):
                out[key] = ms_date(item)
            else:
                out[key] = _echo(item)
        return out
    if isinstance(value, list):
        return [_echo(v) for v in value]
    return value


def _ok(rendered: Record) -> Record:
    rendered["StatusAttributeString"] = "OK"
    rendered.setdefault("HasErrors", False)
    rendered["ValidationErrors"] = []
    return rendered


def _failed(element: dict[str, Any], messages: list[str]) -> Record:
    out = _echo(element)
    out["StatusAttributeString"] = "ERROR"
    out["HasErrors"] = True
    out["HasValidationErrors"] = True
    out["ValidationErrors"] = [{"Message": m} for m in messages]
    out["Warnings"] = []
    return out


def _batch(call: Call, collection: str, kind: schema.Obj,
           apply: Callable[[dict[str, Any]], Record]) -> Result:
    elements = schema.read_elements(call.json(), collection, kind)
    results: list[Record] = []
    failed: list[Record] = []
    for element in elements:
        try:
            results.append(_ok(apply(element)))
        except ValidationFailed as refusal:
            bad = _failed(element, refusal.messages)
            results.append(bad)
            failed.append(bad)
    if failed and call.summarize_errors:
        raise validation_exception(failed)  # the valid elements are already saved, as in Xero
    return 200, {collection: results}


DOC_KINDS = {"Invoices": (INVOICES, schema.INVOICE), "CreditNotes": (CREDIT_NOTES, schema.CREDIT_NOTE),
             "PurchaseOrders": (PURCHASE_ORDERS, schema.PURCHASE_ORDER)}


def write_documents(ctx: WriteContext, call: Call, name: str, *, upsert: bool, path_key: str | None = None) -> Result:
    kind, element_schema = DOC_KINDS[name]
    org = ctx.org
    target = None
    if path_key is not None:
        target = _find(org, name, path_key)
        if target is None:
            raise not_found()

    def apply(element: dict[str, Any]) -> Record:
        existing = kind.records(org).get(target[kind.id_field]) if target is not None else None
        if existing is None and element.get(kind.id_field):
            existing = kind.records(org).get(element[kind.id_field])
            if existing is None and upsert:
                raise ValidationFailed(f"{kind.noun} could not be found for the {kind.id_field} supplied.")
        if existing is None and upsert and element.get(kind.number_field):
            match = find_by_number(org, kind, element[kind.number_field])
            if match is not None and match["Type"] in kind.numbered and \
                    match["Type"] == element.get("Type", match["Type"]):
                existing = match
        record, _ = save_document(ctx, kind, element, existing)
        return render_document(org, kind, record, unitdp=ctx.unitdp)

    return _batch(call, name, element_schema, apply)


def write_contacts(ctx: WriteContext, call: Call, *, upsert: bool, path_key: str | None = None) -> Result:
    org = ctx.org
    target = None
    if path_key is not None:
        target = _find(org, "Contacts", path_key)
        if target is None:
            raise not_found()

    def apply(element: dict[str, Any]) -> Record:
        if target is not None:
            existing = org.contacts[target["ContactID"]]
        elif upsert:
            existing = find_for_upsert(org, element)
        else:
            existing = org.contacts.get(element["ContactID"]) if element.get("ContactID") else None
        record, _ = upsert_contact(ctx, element, existing)
        return render_contact(record)

    return _batch(call, "Contacts", schema.CONTACT, apply)


def write_items(ctx: WriteContext, call: Call, *, upsert: bool, path_key: str | None = None) -> Result:
    org = ctx.org
    target = None
    if path_key is not None:
        target = _find(org, "Items", path_key)
        if target is None:
            raise not_found()

    def apply(element: dict[str, Any]) -> Record:
        existing = org.items[target["ItemID"]] if target is not None else None
        record, _ = upsert_item(ctx, element, existing=existing, allow_update_by_code=upsert)
        return render_item(record, ctx.unitdp)

    return _batch(call, "Items", schema.ITEM, apply)


def write_payments(ctx: WriteContext, call: Call) -> Result:
    def apply(element: dict[str, Any]) -> Record:
        return render_payment(ctx.org, create_payment(ctx, element))

    return _batch(call, "Payments", schema.PAYMENT, apply)


def update_payment(ctx: WriteContext, call: Call, payment_id: str) -> Result:
    payment = ctx.org.payments.get(payment_id.lower())
    if payment is None:
        raise not_found()

    def apply(element: dict[str, Any]) -> Record:
        current = ctx.org.payments[payment["PaymentID"]]
        return render_payment(ctx.org, delete_payment(ctx, current, element))

    return _batch(call, "Payments", schema.PAYMENT, apply)


def write_allocations(ctx: WriteContext, call: Call, credit_note_id: str) -> Result:
    org = ctx.org
    if org.credit_notes.get(credit_note_id.lower()) is None:
        raise not_found()

    def apply(element: dict[str, Any]) -> Record:
        note = org.credit_notes[credit_note_id.lower()]
        return render_allocation(org, create_allocation(ctx, note, element))

    return _batch(call, "Allocations", schema.ALLOCATION, apply)


def remove_allocation(ctx: WriteContext, credit_note_id: str, allocation_id: str) -> Result:
    allocation = ctx.org.allocations.get(allocation_id.lower())
    if allocation is None or allocation["CreditNoteID"] != credit_note_id.lower() or allocation["IsDeleted"]:
        raise not_found()
    return 200, render_allocation(ctx.org, delete_allocation(ctx, allocation), with_status=False)
