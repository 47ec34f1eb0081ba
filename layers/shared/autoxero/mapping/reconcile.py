"""Autotask against Xero: which invoices agree, and which differ in presence, total or paid status."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from autoxero.autotask import models as at
from autoxero.mapping.billing import invoice_total
from autoxero.state import MapEntry

Issue = Literal["missing_in_xero", "total_differs", "paid_differs", "not_linked"]


@dataclass(frozen=True, slots=True)
class XeroDocument:
    xero_id: str
    number: str | None
    kind: Literal["invoice", "credit_note"]
    status: str
    total: Decimal  # positive, as Xero shows it
    fully_paid: bool


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


@dataclass
class Reconciliation:
    rows: list[Row] = field(default_factory=list)
    explained: list[Row] = field(default_factory=list)  # differences that are already in attention
    exported_elsewhere: int = 0
    matched: int = 0

    @property
    def problems(self) -> list[Row]:
        return [r for r in self.rows if r.issue]

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, issue: Issue) -> int:
        return sum(1 for r in self.rows if r.issue == issue)


def compare(invoices: list[at.Invoice], entries: dict[str, MapEntry], documents: dict[str, XeroDocument],
            attention: set[str], unlinked: list[XeroDocument] | None = None) -> Reconciliation:
    """`documents` by Xero id; `attention` holds the Autotask invoice ids a person already has to look at."""
    result = Reconciliation()
    for invoice in invoices:
        number = invoice.invoiceNumber or str(invoice.id)
        paid = invoice.paidDate is not None
        entry = entries.get(str(invoice.id))
        if entry is None or entry.status not in ("synced", "voided") or not entry.xero_id:
            row = Row(invoice.id, number, invoice_total(invoice), None, paid, None, "missing_in_xero")
            if str(invoice.id) in attention:
                result.explained.append(row)
            elif invoice.webServiceDate is not None and entry is None:
                result.exported_elsewhere += 1
            else:
                result.rows.append(row)
            continue
        document = documents.get(entry.xero_id)
        if document is None:
            result.rows.append(Row(invoice.id, number, invoice_total(invoice), None, paid, None, "missing_in_xero",
                                   "linked, but Xero no longer has the document"))
            continue
        signed = document.total if document.kind == "invoice" else -document.total
        issue: Issue | None = None
        note = ""
        if document.status in ("VOIDED", "DELETED"):
            if not invoice.isVoided:
                issue, note = "total_differs", f"{document.status.lower()} in Xero but not in Autotask"
        elif signed != invoice_total(invoice):  # Autotask keeps 4 places; Xero totals to the cent
            issue = "total_differs"
        elif document.kind == "invoice" and document.fully_paid != paid:
            issue = "paid_differs"
        row = Row(invoice.id, number, invoice_total(invoice), signed, paid, document.status, issue, note)
        if issue and str(invoice.id) in attention:
            result.explained.append(row)
            continue
        result.rows.append(row)
        if issue is None:
            result.matched += 1
    for document in unlinked or []:
        result.rows.append(Row(0, document.number or document.xero_id, Decimal(0), document.total, False,
                               document.status, "not_linked",
                               "in Xero with an Autotask invoice's number, but not linked to it"))
    return result
