"""Read both systems and reconcile them: the one reconciliation behind `autoxero reconcile`, its HTML report,
the console's reconciliation page and the demo's final check."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from autoxero.autotask import models as at
from autoxero.autotask.query import Query, eq, gte
from autoxero.mapping.purchase_orders import issued_at, order_number, purchase_total, target
from autoxero.mapping.reconcile import (
    Customer,
    Purchase,
    Reconciliation,
    Row,
    XeroDocument,
    compare,
    compare_purchases,
)
from autoxero.state import AttentionItem
from autoxero.sync.purchase_orders import FLOW as PURCHASES
from autoxero.sync.purchase_orders import orders_in_scope
from autoxero.sync.reference import autotask_reference, xero_organisation
from autoxero.sync.run import FlowRun
from autoxero.xero import models as xm
from autoxero.xero.client import MAX_PAGE_SIZE
from autoxero.xero.timezones import organisation_zone

CREDIT_NOTES_PER_CALL = 25  # GET CreditNotes takes no IDs list: a where filter of ids, kept well inside a URL


def reconcile(run: FlowRun) -> Reconciliation:
    """Xero's documents of the period are read whole, a thousand to a page (and any linked one dated before it,
    by id); the organisation and Autotask's lists come from the table while fresh, like every run's reference
    data; Autotask's customers and vendors are read in one query."""
    organisation = xero_organisation(run) or run.xero.organisation()
    zone = organisation_zone(organisation.Timezone)
    now = run.now().astimezone(zone)
    base = organisation.BaseCurrency or ""
    start = run.settings.invoices.start_date or now.date().replace(day=1)
    invoices = list(run.autotask.query_models("Invoices", at.Invoice, Query([
        gte("invoiceDateTime", dt.datetime.combine(start, dt.time(), dt.UTC)), eq("isVoided", False)])))
    entries = run.state.ids.statuses("invoice", [i.id for i in invoices])
    linked = {e.xero_id for e in entries.values() if e.xero_id}
    documents = _dated_documents(run, "ACCREC", "ACCRECCREDIT", start=start, base=base, linked=linked)
    due = _due_orders(run) if run.settings.purchase_orders.enabled else []
    customers = _companies(run, {i.companyID for i in invoices} | {o.vendorID for o in due}, base)
    numbers = {(i.invoiceNumber or "") for i in invoices} - {""}
    unlinked = [d for d in documents.values() if d.xero_id not in linked and d.number in numbers]
    held = {item.record_id: item.detail for item in _attention(run) if item.flow == "invoices"}
    result = compare(invoices, entries, documents, set(held), unlinked, skipped=_skipped(run, "invoices"),
                     customers=customers, base_currency=base, reasons=held)
    result.period_start, result.period_end = start, now.date()
    result.generated_at, result.zone = now, str(zone)
    result.xero_shortcode, result.organisation = organisation.ShortCode, organisation.Name
    result.autotask_link = run.settings.invoices.deep_link_template
    if due:
        result.purchases, result.held_purchases = _purchases(run, due, customers, base, zone)
    return result


def _dated_documents(run: FlowRun, invoice_type: str, credit_type: str | None, *, start: dt.date, base: str,
                     linked: set[str]) -> dict[str, XeroDocument]:
    """Xero's invoices (and credit notes) of one type dated from `start`, by Xero id, and the `linked` ones
    dated earlier, by id (a person may redate a draft in Xero): an organisation's years of history are not read
    for one period. A Xero date is the organisation's calendar day and `start` a UTC one, so a day earlier."""
    since = start - dt.timedelta(days=1)
    dated = f"Date>=DateTime({since.year},{since.month},{since.day})"
    documents: dict[str, XeroDocument] = {}
    for x in run.xero.invoices(where=f'Type=="{invoice_type}" AND {dated}', page_size=MAX_PAGE_SIZE):
        if x.InvoiceID:
            documents[x.InvoiceID] = _invoice_document(x, base)
    if credit_type:
        for note in run.xero.credit_notes(where=f'Type=="{credit_type}" AND {dated}', page_size=MAX_PAGE_SIZE):
            if note.CreditNoteID:
                documents[note.CreditNoteID] = _credit_note_document(note, base)
    earlier = sorted(linked - set(documents))
    for x in run.xero.invoices_by_id(earlier) if earlier else []:
        if x.InvoiceID:
            documents[x.InvoiceID] = _invoice_document(x, base)
    earlier = sorted(linked - set(documents)) if credit_type else []
    for first in range(0, len(earlier), CREDIT_NOTES_PER_CALL):
        ids = " OR ".join(f'CreditNoteID==Guid("{i}")' for i in earlier[first:first + CREDIT_NOTES_PER_CALL])
        for note in run.xero.credit_notes(where=ids, page_size=MAX_PAGE_SIZE):
            if note.CreditNoteID:
                documents[note.CreditNoteID] = _credit_note_document(note, base)
    return documents


def _purchase_order_documents(run: FlowRun, start: dt.date, linked: set[str]) -> dict[str, XeroDocument]:
    """Xero's purchase orders dated from `start` (a day earlier, as for invoices) and the linked ones dated
    earlier, one by one (Xero has no IDs filter for them)."""
    documents = {po.PurchaseOrderID: _purchase_order_document(po) for po in
                 run.xero.purchase_orders(date_from=start - dt.timedelta(days=1)) if po.PurchaseOrderID}
    for xero_id in sorted(linked - set(documents)):
        po = run.xero.purchase_order(purchase_order_id=xero_id)
        if po is not None and po.PurchaseOrderID:
            documents[po.PurchaseOrderID] = _purchase_order_document(po)
    return documents


def _purchase_order_document(po: xm.PurchaseOrder) -> XeroDocument:
    return XeroDocument(po.PurchaseOrderID or "", po.PurchaseOrderNumber, "purchase_order", po.Status or "",
                        po.SubTotal or Decimal(0), False)


def _invoice_document(x: xm.Invoice, base: str) -> XeroDocument:
    bill = x.Type == "ACCPAY"
    total = (x.SubTotal if bill else x.Total) or Decimal(0)  # a bill is compared before tax
    return XeroDocument(x.InvoiceID or "", x.InvoiceNumber, "bill" if bill else "invoice", x.Status or "", total,
                        (x.Status or "") == "PAID", x.AmountDue or Decimal(0), x.CurrencyCode or base)


def _credit_note_document(note: xm.CreditNote, base: str) -> XeroDocument:
    return XeroDocument(note.CreditNoteID or "", note.CreditNoteNumber, "credit_note", note.Status or "",
                        note.Total or Decimal(0), False, note.RemainingCredit or Decimal(0), note.CurrencyCode or base)


def _attention(run: FlowRun) -> list[AttentionItem]:
    """Every flow's attention items in one query (the invoices' and the purchase orders' are both needed)."""
    items = run.cache.get("reconcile:attention")
    if not isinstance(items, list):
        items = run.cache["reconcile:attention"] = run.state.attention.list()
    return items


def _skipped(run: FlowRun, flow: str) -> set[str]:
    """The records skipped by a person, every flow's read in one query."""
    skipped = run.cache.get("reconcile:skipped")
    if not isinstance(skipped, list):
        skipped = run.cache["reconcile:skipped"] = run.state.attention.skipped()
    return {r.record_id for r in skipped if r.flow == flow}


def _companies(run: FlowRun, company_ids: set[int], base: str) -> dict[int, Customer]:
    currencies = autotask_reference(run).currencies
    out = {}
    for company in run.autotask.query_in("Companies", at.Company, "id", sorted(company_ids)):
        currency = currencies.get(company.currencyID or -1)
        out[company.id] = Customer(company.companyName, currency.name if currency else base)
    return out


def _due_orders(run: FlowRun) -> list[at.PurchaseOrder]:
    orders, staged = orders_in_scope(run)
    return [o for o in orders if staged[o.id] == "ready"]


def _purchases(run: FlowRun, due: list[at.PurchaseOrder], vendors: dict[int, Customer], base: str,
               zone: ZoneInfo) -> tuple[list[Row], list[Row]]:
    items: dict[int, list[at.PurchaseOrderItem]] = defaultdict(list)
    for item in run.autotask.query_in("PurchaseOrderItems", at.PurchaseOrderItem, "orderID", [o.id for o in due]):
        items[item.orderID].append(item)
    kind = target(run.settings.purchase_orders).name
    entries = run.state.ids.statuses(kind, [o.id for o in due])
    linked = {e.xero_id for e in entries.values() if e.xero_id}
    start = min(issued_at(o, run.now()).date() for o in due)
    documents = (_dated_documents(run, "ACCPAY", None, start=start, base=base, linked=linked) if kind == "bill"
                 else _purchase_order_documents(run, start, linked))
    purchases = [Purchase(o.id, order_number(o), vendors.get(o.vendorID, Customer(f"vendor {o.vendorID}", base)).name,
                          issued_at(o, run.now()).astimezone(zone).date(),
                          purchase_total(o, items.get(o.id, []), kind),
                          vendors.get(o.vendorID, Customer("", base)).currency) for o in due]
    return compare_purchases(purchases, entries, documents,
                             {item.record_id for item in _attention(run) if item.flow == PURCHASES},
                             _skipped(run, PURCHASES))
