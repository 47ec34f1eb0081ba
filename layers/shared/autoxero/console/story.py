"""Invoices: search them, and tell one invoice's story — when autoxero read it, what it became in Xero and why
each line got its account, tax, item and tracking (the rules come from the mapping functions themselves, as
`Line.why`), totals on both sides, payments and the paid date written back, every attempt and problem."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autoxero.autotask import models as at
from autoxero.autotask.query import Filter, Query, contains, eq, gte, in_, lte
from autoxero.mapping.common import Problem, Unmappable
from autoxero.mapping.invoices import DocumentPlan, map_invoice
from autoxero.state import AttentionItem, LedgerEntry, MapEntry
from autoxero.state.table import attention_key, map_key, skip_key

if TYPE_CHECKING:
    from autoxero.sync.run import FlowRun
    from autoxero.xero import models as xm

MAX_RESULTS = 50


@dataclass(frozen=True, slots=True)
class Found:
    invoice: at.Invoice
    company: str
    status: str


@dataclass
class Story:
    invoice: at.Invoice
    company: at.Company | None
    entry: MapEntry | None
    plan: DocumentPlan | None
    problem: Problem | None
    xero: xm.Invoice | None
    attention: AttentionItem | None
    skipped: bool
    history: list[LedgerEntry] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.entry.document if self.entry else "invoice"


def _status(entry: MapEntry | None, attention: set[str], skipped: set[str], invoice: at.Invoice) -> str:
    key = str(invoice.id)
    if key in skipped:
        return "skipped"
    if key in attention:
        return "needs attention"
    if entry is not None:
        return {"synced": "in Xero", "pending": "being sent", "failed": "refused by Xero"}.get(entry.status,
                                                                                               entry.status)
    return "exported before autoxero" if invoice.webServiceDate else "not sent yet"


def search(run: FlowRun, text: str = "", start: dt.date | None = None, end: dt.date | None = None) -> list[Found]:
    """By Autotask invoice number (or id), customer name, or invoice date; the newest first, at most 50.

    Two Autotask queries at most: text with a digit is tried as a number (or id) first, alone; otherwise (or
    when no number matched) the customers whose name contains it, then their invoices in one query that also
    matches the number (a number without a digit)."""
    text = text.strip()
    filters = []
    companies: dict[int, at.Company] = {}
    if text:
        number = [eq("invoiceNumber", text), *([eq("id", int(text))] if text.isdigit() else [])]
        if any(c.isdigit() for c in text):
            by_number = list(run.autotask.query_models("Invoices", at.Invoice, Query([_either(number)])))
            if by_number:
                return _found(run, by_number, companies)
            number = []
        companies = {c.id: c for c in itertools.islice(run.autotask.query_models(
            "Companies", at.Company, Query([contains("companyName", text)])), 200)}
        branches = [*number, *([in_("companyID", sorted(companies))] if companies else [])]
        if not branches:
            return []
        filters.append(_either(branches))
    if start:
        filters.append(gte("invoiceDateTime", dt.datetime.combine(start, dt.time(), dt.UTC)))
    if end:
        filters.append(lte("invoiceDateTime", dt.datetime.combine(end, dt.time.max, dt.UTC)))
    if not filters:
        since = run.settings.invoices.start_date or run.now().date() - dt.timedelta(days=90)
        filters.append(gte("invoiceDateTime", dt.datetime.combine(since, dt.time(), dt.UTC)))
    invoices = list(run.autotask.query_models("Invoices", at.Invoice, Query(filters)))
    exact = [i for i in invoices if text and i.invoiceNumber == text]
    if exact:
        return _found(run, exact, companies)
    invoices.sort(key=lambda i: (i.invoiceDateTime, i.id), reverse=True)
    return _found(run, invoices[:MAX_RESULTS], companies)


def _either(filters: list[Filter]) -> Filter:
    return filters[0] if len(filters) == 1 else Filter("or", items=tuple(filters))


def _found(run: FlowRun, invoices: list[at.Invoice], companies: dict[int, at.Company]) -> list[Found]:
    missing = sorted({i.companyID for i in invoices} - set(companies))
    if missing:
        companies.update({c.id: c for c in run.autotask.query_in("Companies", at.Company, "id", missing)})
    entries = run.state.ids.get_many("invoice", [i.id for i in invoices])
    attention = {i.record_id for i in run.attention_items("invoices")}
    skipped = run.skipped_ids("invoices")
    return [Found(i, companies[i.companyID].companyName if i.companyID in companies else "",
                  _status(entries.get(str(i.id)), attention, skipped, i)) for i in invoices]


def story(run: FlowRun, invoice_id: int) -> Story | None:
    from autoxero.sync.invoices import invoice_reference
    from autoxero.sync.reference import xero_reference

    record = run.autotask.get("Invoices", invoice_id)
    if record is None:
        return None
    invoice = at.Invoice.model_validate(record)
    items = list(run.autotask.query_in("BillingItems", at.BillingItem, "invoiceID", [invoice.id]))
    company_record = run.autotask.get("Companies", invoice.companyID)
    company = at.Company.model_validate(company_record) if company_record else None
    # What the table knows of it, in one BatchGetItem: its id-map entry, its customer's, its attention item, its skip.
    keys = {"entry": map_key("invoice", invoice.id), "contact": map_key("contact", invoice.companyID),
            "attention": attention_key("invoices", invoice.id), "skip": skip_key("invoices", invoice.id)}
    found = run.state.table.get_many(list(keys.values()))
    known = {name: found.get((key["pk"], key["sk"])) for name, key in keys.items()}
    entry = MapEntry.from_item(known["entry"]) if known["entry"] else None
    plan, problem = None, None
    if company is not None and items:
        contact = MapEntry.from_item(known["contact"]) if known["contact"] else None
        charges, ref = invoice_reference(run, [invoice], items)
        try:
            plan = map_invoice(invoice, items, company, (contact.xero_id if contact else None) or "(no contact yet)",
                               ref=ref, xero=xero_reference(run), settings=run.settings.invoices, charges=charges)
        except Unmappable as err:
            problem = err.problem
    xero_invoice = None
    if entry and entry.xero_id and entry.document == "invoice":
        xero_invoice = next(iter(run.xero.invoices_by_id([entry.xero_id])), None)
    history = [*run.state.ledger.history("invoices", invoice.id), *run.state.ledger.history("payments", invoice.id)]
    history.sort(key=lambda e: e.at)
    return Story(invoice, company, entry, plan, problem, xero_invoice,
                 AttentionItem.from_item(known["attention"]) if known["attention"] else None, known["skip"] is not None,
                 history)


def line_rows(story: Story) -> list[dict[str, Any]]:
    """Each line as the page shows it: amounts, the Xero codes, and why."""
    if story.plan is None:
        return []
    return [{"description": line.description, "quantity": line.quantity, "unit_amount": line.unit_amount,
             "amount": line.amount, "account": line.account_code, "tax": line.tax_type or "(account default)",
             "item": line.item_code or "", "tracking": ", ".join(f"{c}: {o}" for c, o in line.tracking),
             "why": line.why} for line in story.plan.lines]
