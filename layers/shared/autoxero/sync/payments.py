"""The payments flow, Xero -> Autotask: a paid Xero invoice marks its Autotask invoice paid.

Two triggers share one decision: Xero INVOICE webhook events from the queue (within seconds), and a
scheduled poll with If-Modified-Since from a cursor, so a lost webhook is caught within one period.
Duplicate deliveries are harmless: the decision compares with what Autotask already says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from autoxero.autotask import models as at
from autoxero.mapping.payments import decide_paid_date
from autoxero.state import MapEntry
from autoxero.sync.run import FlowRun
from autoxero.xero import models as xm

FLOW = "payments"
KIND = "invoice"
CURSOR = "payments"


def reconcile_invoices(run: FlowRun, xero_invoices: Iterable[xm.Invoice]) -> None:
    """Bring each mapped Autotask invoice's paidDate in line with its Xero invoice."""
    by_id = {x.InvoiceID: x for x in xero_invoices if x.InvoiceID and x.Type in (None, "ACCREC")}
    entries = run.state.ids.by_xero_ids(KIND, by_id)
    if not entries:
        return
    autotask_ids = sorted({int(e.autotask_id) for e in entries.values()})
    current = {i.id: i for i in run.autotask.query_in("Invoices", at.Invoice, "id", autotask_ids)}
    for xero_id, entry in entries.items():
        invoice = current.get(int(entry.autotask_id))
        if invoice is None:
            continue
        _apply(run, invoice, by_id[xero_id], entry)


def _apply(run: FlowRun, invoice: at.Invoice, xero: xm.Invoice, entry: MapEntry) -> None:
    autotask_paid = invoice.paidDate.date() if invoice.paidDate else None
    written = entry.extra.get("paid_date_written")
    last_written = dt.date.fromisoformat(written) if written else None
    decision = decide_paid_date(xero, autotask_paid, last_written, run.settings.payments.overwrite_manual_paid_date)
    detail = {"xero_status": xero.Status, "amount_due": str(xero.AmountDue), "decision": decision.action,
              "reason": decision.reason}
    if decision.action == "none":
        if decision.part_paid or "by hand" in decision.reason:
            run.state.ledger.append(FLOW, invoice.id, "paid date unchanged", "ok", detail)
        run.counts["unchanged"] += 1
        return
    if run.dry_run:
        run.plan(invoice.id, f"{decision.action} paidDate", str(invoice.invoiceNumber), detail)
        return
    value = f"{decision.paid_date.isoformat()}T00:00:00Z" if decision.paid_date else None
    run.autotask.patch("Invoices", {"id": invoice.id, "paidDate": value})
    run.state.ids.record(KIND, entry.autotask_id, xero_id=entry.xero_id or "", identity=entry.identity,
                         content_hash=entry.content_hash, xero_number=entry.xero_number,
                         extra={**entry.extra, "paid_date_written": decision.paid_date.isoformat()
                                if decision.paid_date else None})
    run.state.ledger.append(FLOW, invoice.id, f"{decision.action} paidDate", "ok", {**detail, "paidDate": value})
    run.counts["paid" if decision.action == "set" else "unpaid"] += 1


def run_payments(run: FlowRun) -> None:
    """The safety net: every ACCREC invoice Xero changed since the cursor."""
    cursor = run.state.cursors.get(CURSOR)
    since = dt.datetime.fromisoformat(cursor) if cursor else None
    newest = since
    batch: list[xm.Invoice] = []
    for invoice in run.xero.invoices(where='Type=="ACCREC"', modified_since=since):
        batch.append(invoice)
        if invoice.UpdatedDateUTC and (newest is None or invoice.UpdatedDateUTC > newest):
            newest = invoice.UpdatedDateUTC
        if len(batch) >= 100:
            reconcile_invoices(run, batch)
            batch = []
    reconcile_invoices(run, batch)
    if newest and not run.dry_run and (cursor is None or newest.isoformat() > cursor):
        run.state.cursors.advance(CURSOR, newest.isoformat())


def invoice_of(run: FlowRun, message: dict[str, Any]) -> str | None:
    """The Xero invoice a webhook event names; None for another category or another organisation."""
    if "resource_id" not in message:
        raise ValueError("not a Xero event message")
    run.counts["events"] += 1
    tenant = run.xero.tenant_id
    if message.get("category") != "INVOICE" or (tenant is not None and message.get("tenant_id") != tenant):
        return None
    return str(message["resource_id"])


def sync_invoice_ids(run: FlowRun, xero_ids: list[str]) -> None:
    """Xero webhook events: one read of up to 50 invoices, whatever the number of events for them."""
    ids = list(dict.fromkeys(xero_ids))
    run.counts["duplicate_events"] += len(xero_ids) - len(ids)
    mapped = run.state.ids.by_xero_ids(KIND, ids)
    run.counts["unmapped_events"] += len(ids) - len(mapped)
    if mapped:
        reconcile_invoices(run, run.xero.invoices_by_id(list(mapped)))
