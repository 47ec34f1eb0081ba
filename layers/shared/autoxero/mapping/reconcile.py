"""Autotask against Xero, for finance: where each invoice, bill and purchase order of the period stands, and
the money in each state per currency.

Every Autotask invoice of the period lands in exactly one place: a problem (an unexplained difference), held
(a person already has it in attention), skipped (a person marked it never to sync), exported before autoxero
(stamped in Autotask with no autoxero record), or in agreement. So a held invoice is counted once, and the
totals per currency add up to what Autotask invoiced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal

from autoxero.autotask import models as at
from autoxero.mapping.billing import invoice_total
from autoxero.state import MapStatus
from autoxero.xero.links import record_link

Issue = Literal["missing_in_xero", "total_differs", "paid_differs", "not_linked"]
ISSUE_TEXT: dict[str | None, str] = {"missing_in_xero": "missing in Xero", "total_differs": "totals differ",
                                     "paid_differs": "paid status differs", "not_linked": "in Xero, not linked",
                                     None: "agrees"}
Kind = Literal["invoice", "credit_note", "bill", "purchase_order"]
ZERO = Decimal(0)
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class XeroDocument:
    xero_id: str
    number: str | None
    kind: Kind
    status: str
    total: Decimal  # positive, as Xero shows it (bills and purchase orders: before tax, as Autotask totals a PO)
    fully_paid: bool
    amount_due: Decimal = ZERO
    currency: str = ""


@dataclass(frozen=True, slots=True)
class Customer:
    name: str
    currency: str


@dataclass(frozen=True, slots=True)
class Row:
    autotask_id: int
    number: str
    autotask_total: Decimal
    xero_total: Decimal | None
    autotask_paid: bool
    xero_status: str | None
    issue: Issue | None
    note: str = ""
    customer: str = ""
    date: dt.date | None = None
    currency: str = ""
    xero_paid: bool | None = None
    outstanding: Decimal | None = None  # what Xero says is still owed (negative for a credit note)
    xero_id: str | None = None
    kind: Kind = "invoice"

    @property
    def issue_text(self) -> str:
        return ISSUE_TEXT[self.issue]


@dataclass
class Totals:
    """One currency's money for the period."""

    invoiced_in_autotask: Decimal = ZERO
    in_xero: Decimal = ZERO
    outstanding: Decimal = ZERO
    held: Decimal = ZERO
    skipped: Decimal = ZERO
    exported_before: Decimal = ZERO
    differing: Decimal = ZERO
    invoices: int = 0


@dataclass
class Reconciliation:
    rows: list[Row] = field(default_factory=list)               # invoices: problems and agreements
    explained: list[Row] = field(default_factory=list)          # held: already in attention
    skipped: list[Row] = field(default_factory=list)            # marked by a person never to sync
    exported_before: list[Row] = field(default_factory=list)    # stamped in Autotask before autoxero
    purchases: list[Row] = field(default_factory=list)          # bills / Xero POs: problems and agreements
    held_purchases: list[Row] = field(default_factory=list)
    matched: int = 0
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    generated_at: dt.datetime | None = None  # in the organisation's time zone
    zone: str = "UTC"
    xero_shortcode: str | None = None
    autotask_link: str | None = None  # invoices.deep_link_template
    organisation: str = ""  # the Xero organisation's name

    def xero_url(self, row: Row) -> str | None:
        return record_link(row.kind, row.xero_id, self.xero_shortcode)

    def autotask_url(self, row: Row) -> str | None:
        if not self.autotask_link or not row.autotask_id or row.kind in ("bill", "purchase_order"):
            return None
        return self.autotask_link.format(id=row.autotask_id)

    @property
    def exported_elsewhere(self) -> int:
        return len(self.exported_before)

    @property
    def problems(self) -> list[Row]:
        return [r for r in self.rows + self.purchases if r.issue]

    @property
    def agreements(self) -> list[Row]:
        return [r for r in self.rows if not r.issue]

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, issue: Issue) -> int:
        return sum(1 for r in self.problems if r.issue == issue)

    def totals(self) -> dict[str, Totals]:
        """Per currency: each invoice counted once, in the one place it stands."""
        out: dict[str, Totals] = {}
        buckets = ((self.rows, "rows"), (self.explained, "held"), (self.skipped, "skipped"),
                   (self.exported_before, "exported_before"))
        for rows, bucket in buckets:
            for row in rows:
                if row.autotask_id == 0:  # in Xero only: not an Autotask invoice of the period
                    continue
                money = out.setdefault(row.currency, Totals())
                money.invoices += 1
                money.invoiced_in_autotask += row.autotask_total
                if row.xero_total is not None and row.xero_status not in ("VOIDED", "DELETED"):
                    money.in_xero += row.xero_total
                    money.outstanding += row.outstanding or ZERO
                if bucket == "held":
                    money.held += row.autotask_total
                elif bucket == "skipped":
                    money.skipped += row.autotask_total
                elif bucket == "exported_before":
                    money.exported_before += row.autotask_total
                elif row.issue:
                    money.differing += row.autotask_total
        return dict(sorted(out.items()))


def _signed(document: XeroDocument) -> tuple[Decimal, Decimal]:
    sign = 1 if document.kind in ("invoice", "bill", "purchase_order") else -1
    return sign * document.total, sign * document.amount_due


def compare(invoices: list[at.Invoice], entries: Mapping[str, MapStatus], documents: dict[str, XeroDocument],
            attention: set[str], unlinked: list[XeroDocument] | None = None, *,
            skipped: set[str] | None = None, customers: dict[int, Customer] | None = None,
            base_currency: str = "", reasons: dict[str, str] | None = None) -> Reconciliation:
    """`documents` by Xero id; `attention` and `skipped` hold Autotask invoice ids; `customers` by company id;
    `reasons`: what a person is told about each held invoice (its attention message), shown on its row."""
    result = Reconciliation()
    customers = customers or {}
    for invoice in invoices:
        who = customers.get(invoice.companyID) or Customer(f"company {invoice.companyID}", base_currency)
        base = Row(invoice.id, invoice.invoiceNumber or str(invoice.id), invoice_total(invoice), None,
                   invoice.paidDate is not None, None, None, customer=who.name,
                   date=invoice.invoiceDateTime.date(), currency=who.currency or base_currency)
        _place(result, invoice, base, entries.get(str(invoice.id)), documents=documents, attention=attention,
               skipped=skipped or set())
    for index, row in enumerate(result.explained):
        why = (reasons or {}).get(str(row.autotask_id))
        if why:
            result.explained[index] = replace(row, note=why)
    for document in unlinked or []:
        total, due = _signed(document)
        result.rows.append(Row(0, document.number or document.xero_id, ZERO, total, False, document.status,
                               "not_linked", "in Xero with an Autotask invoice's number, but not linked to it",
                               currency=document.currency or base_currency, xero_id=document.xero_id,
                               outstanding=due, kind=document.kind))
    return result


def _place(result: Reconciliation, invoice: at.Invoice, base: Row, entry: MapStatus | None, *,
           documents: dict[str, XeroDocument], attention: set[str], skipped: set[str]) -> None:
    key = str(invoice.id)
    if key in skipped:
        result.skipped.append(replace(base, note="skipped by a person"))
        return
    if entry is None or entry.status not in ("synced", "voided") or not entry.xero_id:
        if key in attention:
            result.explained.append(replace(base, issue="missing_in_xero"))
        elif invoice.webServiceDate is not None and entry is None:
            result.exported_before.append(base)
        else:
            result.rows.append(replace(base, issue="missing_in_xero"))
        return
    document = documents.get(entry.xero_id)
    if document is None:
        result.rows.append(replace(base, issue="missing_in_xero", note="linked, but Xero no longer has the document",
                                   xero_id=entry.xero_id))
        return
    total, due = _signed(document)
    issue: Issue | None = None
    note = ""
    if document.status in ("VOIDED", "DELETED"):
        if not invoice.isVoided:
            issue, note = "total_differs", f"{document.status.lower()} in Xero but not in Autotask"
    elif total != base.autotask_total:  # Autotask keeps 4 places; Xero totals to the cent
        issue = "total_differs"
    elif document.kind == "invoice" and document.fully_paid != base.autotask_paid:
        issue = "paid_differs"
    row = replace(base, xero_total=total, xero_status=document.status, issue=issue, note=note,
                  xero_paid=document.fully_paid, outstanding=due, xero_id=document.xero_id, kind=document.kind)
    if issue and key in attention:
        result.explained.append(row)
        return
    result.rows.append(row)
    if issue is None:
        result.matched += 1


@dataclass(frozen=True, slots=True)
class Purchase:
    """An Autotask purchase order that is due in Xero (at or past the trigger status)."""

    autotask_id: int
    number: str
    vendor: str
    date: dt.date | None
    total: Decimal
    currency: str


def compare_purchases(orders: list[Purchase], entries: Mapping[str, MapStatus], documents: dict[str, XeroDocument],
                      attention: set[str], skipped: set[str]) -> tuple[list[Row], list[Row]]:
    """(rows, held): each purchase order against its bill or Xero purchase order."""
    rows: list[Row] = []
    held: list[Row] = []
    for order in orders:
        key = str(order.autotask_id)
        if key in skipped:
            continue
        base = Row(order.autotask_id, order.number, order.total, None, False, None, None, customer=order.vendor,
                   date=order.date, currency=order.currency, kind="purchase_order")
        entry = entries.get(key)
        document = documents.get(entry.xero_id) if entry and entry.xero_id else None
        if entry is None or entry.status != "synced" or document is None:
            gone = entry is not None and entry.status == "synced" and document is None
            row = replace(base, issue="missing_in_xero", note="linked, but Xero no longer has it" if gone else "")
        else:
            total, due = _signed(document)
            issue: Issue | None = None
            note = ""
            if document.status in ("VOIDED", "DELETED"):
                issue, note = "total_differs", f"{document.status.lower()} in Xero but not cancelled in Autotask"
            elif total.quantize(CENT) != order.total.quantize(CENT):  # both before tax
                issue = "total_differs"
            row = replace(base, xero_total=total, xero_status=document.status, issue=issue, note=note,
                          outstanding=due, xero_id=document.xero_id, kind=document.kind)
        (held if row.issue and key in attention else rows).append(row)
    return rows, held
