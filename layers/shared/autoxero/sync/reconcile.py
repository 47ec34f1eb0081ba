"""Read both systems and reconcile them (the `autoxero reconcile` report and the demo's final check)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from autoxero.autotask import models as at
from autoxero.autotask.query import Query, eq, gte
from autoxero.mapping.reconcile import Reconciliation, XeroDocument, compare
from autoxero.sync.run import FlowRun


def reconcile(run: FlowRun) -> Reconciliation:
    start = dt.datetime.combine(run.settings.invoices.start_date or run.now().date().replace(day=1), dt.time(),
                                dt.UTC)
    invoices = list(run.autotask.query_models("Invoices", at.Invoice,
                                              Query([gte("invoiceDateTime", start), eq("isVoided", False)])))
    entries = run.state.ids.get_many("invoice", [i.id for i in invoices])
    documents: dict[str, XeroDocument] = {}
    for x in run.xero.invoices(where='Type=="ACCREC"'):
        if x.InvoiceID:
            documents[x.InvoiceID] = XeroDocument(x.InvoiceID, x.InvoiceNumber, "invoice", x.Status or "",
                                                  x.Total or Decimal(0), (x.Status or "") == "PAID")
    for note in run.xero.credit_notes(where='Type=="ACCRECCREDIT"'):
        if note.CreditNoteID:
            documents[note.CreditNoteID] = XeroDocument(note.CreditNoteID, note.CreditNoteNumber, "credit_note",
                                                        note.Status or "", note.Total or Decimal(0), False)
    attention = {item.record_id for item in run.state.attention.list("invoices")}
    linked = {e.xero_id for e in entries.values() if e.xero_id}
    numbers = {(i.invoiceNumber or "") for i in invoices} - {""}
    unlinked = [d for d in documents.values() if d.xero_id not in linked and d.number in numbers]
    return compare(invoices, entries, documents, attention, unlinked)
