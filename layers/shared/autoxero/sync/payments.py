"""The payments flow, Xero -> Autotask: a paid Xero invoice marks its Autotask invoice paid.

Two triggers share one decision: Xero INVOICE webhook events from the queue (within seconds), and a
scheduled poll with If-Modified-Since from a cursor, so a lost webhook is caught within one period.
Duplicate deliveries are harmless: the decision compares with what Autotask already says.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autoxero.autotask import models as at
from autoxero.mapping.payments import decide_paid_date
from autoxero.observability import logger
from autoxero.state import MapEntry
from autoxero.sync.run import FlowRun
from autoxero.xero import models as xm

if TYPE_CHECKING:
    from autoxero.runtime import Runtime

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


def handle_events(run: FlowRun, messages: list[dict[str, Any]]) -> None:
    """Xero webhook events: one read of up to 50 invoices, whatever the number of events for them."""
    tenant = run.xero.tenant_id
    ids = list(dict.fromkeys(m["resource_id"] for m in messages
                             if m.get("category") == "INVOICE" and (tenant is None or m.get("tenant_id") == tenant)))
    run.counts["events"] += len(messages)
    run.counts["duplicate_events"] += len([m for m in messages if m.get("category") == "INVOICE"]) - len(ids)
    mapped = run.state.ids.by_xero_ids(KIND, ids)
    run.counts["unmapped_events"] += len(ids) - len(mapped)
    if mapped:
        reconcile_invoices(run, run.xero.invoices_by_id(list(mapped)))


# ----------------------------------------------------------------------------- Lambda entry points


def run_scheduled(rt: Runtime, context: LambdaContext, dry_run: bool) -> dict[str, Any]:
    from autoxero.sync.build import build_run, execute_run

    return execute_run(rt, build_run(rt, FLOW, context, dry_run), run_payments)


def consume(rt: Runtime, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """An SQS batch of Xero events, processed together; failures reported per message."""
    from autoxero.sync.build import build_run, execute_run

    good: list[tuple[str, dict[str, Any]]] = []
    failures: list[dict[str, str]] = []
    for record in event["Records"]:
        try:
            message = json.loads(record["body"])
            if not isinstance(message, dict) or "resource_id" not in message:
                raise ValueError("not a Xero event message")
            good.append((record["messageId"], message))
        except (ValueError, KeyError, TypeError):
            logger.error("unreadable queue message", message_id=record.get("messageId"))
            failures.append({"itemIdentifier": str(record.get("messageId"))})
    if good:
        try:
            execute_run(rt, build_run(rt, FLOW, context, False), lambda run: handle_events(run, [m for _, m in good]))
        except Exception:
            logger.exception("payment events failed; the queue will deliver them again")
            failures.extend({"itemIdentifier": message_id} for message_id, _ in good)
    return {"batchItemFailures": failures}
