"""Read both systems and reconcile them: the one reconciliation behind `autoxero reconcile`, its HTML report,
the console's reconciliation page and the demo's final check."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from autoxero.autotask import models as at
from autoxero.autotask.query import Query, eq, gte
from autoxero.mapping.purchase_orders import order_number, purchase_total, target
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
from autoxero.xero.client import MAX_PAGE_SIZE
from autoxero.xero.timezones import organisation_zone


def reconcile(run: FlowRun) -> Reconciliation:
    """Xero's documents are read whole, a thousand to a page; the organisation and Autotask's lists come from
    the table while fresh, like every run's reference data."""
    organisation = xero_organisation(run) or run.xero.organisation()
    zone = organisation_zone(organisation.Timezone)
    now = run.now().astimezone(zone)
    base = organisation.BaseCurrency or ""
    start = run.settings.invoices.start_date or now.date().replace(day=1)
    invoices = list(run.autotask.query_models("Invoices", at.Invoice, Query([
        gte("invoiceDateTime", dt.datetime.combine(start, dt.time(), dt.UTC)), eq("isVoided", False)])))
    entries = run.state.ids.statuses("invoice", [i.id for i in invoices])
    documents: dict[str, XeroDocument] = {}
    for x in run.xero.invoices(where='Type=="ACCREC"', page_size=MAX_PAGE_SIZE):
        if x.InvoiceID:
            documents[x.InvoiceID] = XeroDocument(x.InvoiceID, x.InvoiceNumber, "invoice", x.Status or "",
                                                  x.Total or Decimal(0), (x.Status or "") == "PAID",
                                                  x.AmountDue or Decimal(0), x.CurrencyCode or base)
    for note in run.xero.credit_notes(where='Type=="ACCRECCREDIT"', page_size=MAX_PAGE_SIZE):
        if note.CreditNoteID:
            documents[note.CreditNoteID] = XeroDocument(
                note.CreditNoteID, note.CreditNoteNumber, "credit_note", note.Status or "", note.Total or Decimal(0),
                False, note.RemainingCredit or Decimal(0), note.CurrencyCode or base)
    customers = _customers(run, {i.companyID for i in invoices}, base)
    linked = {e.xero_id for e in entries.values() if e.xero_id}
    numbers = {(i.invoiceNumber or "") for i in invoices} - {""}
    unlinked = [d for d in documents.values() if d.xero_id not in linked and d.number in numbers]
    held = {item.record_id: item.message for item in _attention(run) if item.flow == "invoices"}
    result = compare(invoices, entries, documents, set(held), unlinked, skipped=_skipped(run, "invoices"),
                     customers=customers, base_currency=base, reasons=held)
    result.period_start, result.period_end = start, now.date()
    result.generated_at, result.zone = now, str(zone)
    result.xero_shortcode, result.organisation = organisation.ShortCode, organisation.Name
    result.autotask_link = run.settings.invoices.deep_link_template
    if run.settings.purchase_orders.enabled:
        result.purchases, result.held_purchases = _purchases(run, base, zone)
    return result


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


def _customers(run: FlowRun, company_ids: set[int], base: str) -> dict[int, Customer]:
    currencies = autotask_reference(run).currencies
    out = {}
    for company in run.autotask.query_in("Companies", at.Company, "id", sorted(company_ids)):
        currency = currencies.get(company.currencyID or -1)
        out[company.id] = Customer(company.companyName, currency.name if currency else base)
    return out


def _purchases(run: FlowRun, base: str, zone: ZoneInfo) -> tuple[list[Row], list[Row]]:
    orders, staged = orders_in_scope(run)
    due = [o for o in orders if staged[o.id] == "ready"]
    if not due:
        return [], []
    items: dict[int, list[at.PurchaseOrderItem]] = defaultdict(list)
    for item in run.autotask.query_in("PurchaseOrderItems", at.PurchaseOrderItem, "orderID", [o.id for o in due]):
        items[item.orderID].append(item)
    vendors = _customers(run, {o.vendorID for o in due}, base)
    kind = target(run.settings.purchase_orders).name
    documents: dict[str, XeroDocument] = {}
    if kind == "bill":
        for bill in run.xero.invoices(where='Type=="ACCPAY"', page_size=MAX_PAGE_SIZE):
            if bill.InvoiceID:
                documents[bill.InvoiceID] = XeroDocument(
                    bill.InvoiceID, bill.InvoiceNumber, "bill", bill.Status or "", bill.SubTotal or Decimal(0),
                    (bill.Status or "") == "PAID", bill.AmountDue or Decimal(0), bill.CurrencyCode or base)
    else:
        for po in run.xero.purchase_orders():
            if po.PurchaseOrderID:
                documents[po.PurchaseOrderID] = XeroDocument(po.PurchaseOrderID, po.PurchaseOrderNumber,
                                                             "purchase_order", po.Status or "",
                                                             po.SubTotal or Decimal(0), False)
    purchases = [Purchase(o.id, order_number(o), vendors.get(o.vendorID, Customer(f"vendor {o.vendorID}", base)).name,
                          (o.submitDateTime or o.createDateTime or run.now()).astimezone(zone).date(),
                          purchase_total(o, items.get(o.id, [])),
                          vendors.get(o.vendorID, Customer("", base)).currency) for o in due]
    return compare_purchases(purchases, run.state.ids.statuses(kind, [o.id for o in due]), documents,
                             {item.record_id for item in _attention(run) if item.flow == PURCHASES},
                             _skipped(run, PURCHASES))
