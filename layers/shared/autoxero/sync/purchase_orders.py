"""The purchase orders flow: Autotask POs that reach the trigger status -> Xero bills (or POs).

Later edits update the Xero draft; a cancelled PO deletes the draft; a document already approved in Xero
is never changed — it goes to attention instead. Exactly once, as for invoices: write-ahead pending and a
look-up by number (and vendor) before any re-create.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autoxero.autotask import models as at
from autoxero.autotask.query import Query, gte
from autoxero.mapping.common import Problem, Unmappable
from autoxero.mapping.purchase_orders import PurchasePlan, map_purchase_order, stage
from autoxero.state import MapEntry
from autoxero.sync.contacts import sync_companies
from autoxero.sync.reference import autotask_reference, xero_reference
from autoxero.sync.run import FlowRun

if TYPE_CHECKING:
    from autoxero.runtime import Runtime

FLOW = "purchase_orders"
EDITABLE = ("DRAFT", "SUBMITTED")


def _kind(run: FlowRun) -> str:
    return "bill" if run.settings.purchase_orders.target == "bill" else "purchase_order"


def run_purchase_orders(run: FlowRun) -> None:
    settings = run.settings.purchase_orders
    if not settings.enabled:
        return
    since = run.now() - dt.timedelta(days=settings.lookback_days)
    orders = run.without_skipped(list(run.autotask.query_models(
        "PurchaseOrders", at.PurchaseOrder, Query([gte("createDateTime", since)]))), lambda o: o.id, FLOW)
    ref = autotask_reference(run)
    statuses = ref.picklists.get("PurchaseOrders.status")
    staged = {o.id: stage(statuses.label(o.status) if statuses else str(o.status), settings) for o in orders}
    ready = [o for o in orders if staged[o.id] == "ready"]
    cancelled = [o for o in orders if staged[o.id] == "cancelled"]
    entries = run.state.ids.get_many(_kind(run), [o.id for o in ready + cancelled])
    if ready:
        _sync_ready(run, ready, entries)
    _cancel(run, [o for o in cancelled if (e := entries.get(str(o.id))) and e.status == "synced"], entries)


def _sync_ready(run: FlowRun, orders: list[at.PurchaseOrder], entries: dict[str, MapEntry]) -> None:
    items: dict[int, list[at.PurchaseOrderItem]] = defaultdict(list)
    for item in run.autotask.query_in("PurchaseOrderItems", at.PurchaseOrderItem, "orderID", [o.id for o in orders]):
        items[item.orderID].append(item)
    vendors = _vendor_contacts(run, {o.vendorID for o in orders})
    ref, xero = autotask_reference(run), xero_reference(run)
    creates: list[tuple[at.PurchaseOrder, PurchasePlan]] = []
    updates: list[tuple[at.PurchaseOrder, PurchasePlan, str]] = []
    for order in orders:
        label = f"Purchase order {order.purchaseOrderNumber or order.id}"
        contact_id = vendors.get(order.vendorID)
        if contact_id is None:
            run.problem(order.id, Problem("vendor_not_synced", f"{label}: the vendor has no Xero contact yet.",
                                          "Resolve the vendor's item in `autoxero attention` (contacts)."), label)
            continue
        try:
            plan = map_purchase_order(order, items.get(order.id, []), contact_id, ref=ref, xero=xero,
                                      settings=run.settings.purchase_orders)
        except Unmappable as err:
            run.problem(order.id, err.problem, label)
            continue
        entry = entries.get(str(order.id))
        if entry and entry.status == "synced" and entry.xero_id:
            if entry.content_hash == plan.content_hash:
                run.counts["skipped"] += 1
                continue
            updates.append((order, plan, entry.xero_id))
        elif entry and entry.status == "pending" and (found := _find(run, plan)):
            run.state.ids.record(_kind(run), order.id, xero_id=found, identity=plan.number,
                                 content_hash=plan.content_hash)
            run.counts["recovered"] += 1
            updates.append((order, plan, found))
        else:
            creates.append((order, plan))
    if run.dry_run:
        for order, plan in creates:
            run.plan(order.id, f"create {plan.target.replace('_', ' ')}", plan.number, plan.payload)
        for order, plan, xero_id in updates:
            run.plan(order.id, f"update {plan.target.replace('_', ' ')}", plan.number, {"id": xero_id, **plan.payload})
        return
    _create(run, creates)
    _update(run, updates)


def _vendor_contacts(run: FlowRun, vendor_ids: set[int]) -> dict[int, str]:
    mapped = run.state.ids.get_many("contact", vendor_ids)
    result = {int(k): v.xero_id for k, v in mapped.items() if v.status == "synced" and v.xero_id}
    missing = sorted(vendor_ids - set(result))
    if missing:
        result.update(sync_companies(run, missing))
    return result


def _find(run: FlowRun, plan: PurchasePlan) -> str | None:
    contact = plan.payload["Contact"]["ContactID"]
    if plan.target == "bill":
        for bill in run.xero.invoices_by_number([plan.number]):
            same_vendor = bill.Contact is not None and bill.Contact.ContactID == contact
            if bill.Type == "ACCPAY" and same_vendor and bill.Status != "DELETED":
                return bill.InvoiceID
        return None
    order = run.xero.purchase_order(number=plan.number)
    return order.PurchaseOrderID if order and order.Contact and order.Contact.ContactID == contact else None


def _send(run: FlowRun, payloads: list[dict[str, Any]], *, update: bool) -> list[Any]:
    if run.settings.purchase_orders.target == "bill":
        return run.xero.update_invoices(payloads) if update else run.xero.create_invoices(payloads)
    return run.xero.update_purchase_orders(payloads) if update else run.xero.create_purchase_orders(payloads)


def _id_field(run: FlowRun) -> str:
    return "InvoiceID" if run.settings.purchase_orders.target == "bill" else "PurchaseOrderID"


def _record(run: FlowRun, order: at.PurchaseOrder, plan: PurchasePlan, outcome: Any, action: str) -> None:
    xero_id = getattr(outcome.record, _id_field(run), None) if outcome.record is not None else None
    if outcome.ok and xero_id:
        run.state.ids.record(_kind(run), order.id, xero_id=xero_id, identity=plan.number,
                             content_hash=plan.content_hash)
        run.state.ledger.append(FLOW, order.id, f"{action} {plan.target}", "ok",
                                {"xero_id": xero_id, "total": str(plan.total)})
        run.counts["created" if action == "create" else "updated"] += 1
        run.resolved(order.id)
    else:
        message = "; ".join(outcome.errors) or "Xero did not accept it"
        run.problem(order.id, Problem("xero_rejected", f"Purchase order {plan.number}: Xero refused the "
                                      f"{plan.target.replace('_', ' ')} ({message}).",
                                      "Correct it in Autotask or settings, then `autoxero attention retry`."),
                    plan.number)
        if action == "create":
            run.state.ids.set_status(_kind(run), order.id, "failed")


def _create(run: FlowRun, creates: list[tuple[at.PurchaseOrder, PurchasePlan]]) -> None:
    for order, plan in creates:
        run.state.ids.mark_pending(_kind(run), order.id, plan.number, plan.content_hash)
    if creates:
        for (order, plan), outcome in zip(creates, _send(run, [p.payload for _, p in creates], update=False),
                                          strict=True):
            _record(run, order, plan, outcome, "create")


def _current_status(run: FlowRun, xero_ids: list[str]) -> dict[str, str]:
    if run.settings.purchase_orders.target == "bill":
        return {b.InvoiceID: b.Status or "" for b in run.xero.invoices_by_id(xero_ids) if b.InvoiceID}
    found = {x: run.xero.purchase_order(purchase_order_id=x) for x in xero_ids}
    return {x: (o.Status or "") for x, o in found.items() if o}


def _update(run: FlowRun, updates: list[tuple[at.PurchaseOrder, PurchasePlan, str]]) -> None:
    if not updates:
        return
    status = _current_status(run, [x for _, _, x in updates])
    editable = []
    for order, plan, xero_id in updates:
        if status.get(xero_id) in EDITABLE:
            editable.append((order, plan, xero_id))
        else:
            run.problem(order.id, Problem(
                "approved_in_xero", f"Purchase order {plan.number} changed in Autotask, but its Xero "
                f"{plan.target.replace('_', ' ')} is already {status.get(xero_id, 'gone').lower()}, so autoxero "
                "did not change it.", "Make the same change in Xero by hand (or void it there and let autoxero "
                "create it again by resolving this item)."), plan.number)
    payloads = [{**p.payload, _id_field(run): x} for _, p, x in editable]
    if payloads:
        for (order, plan, _), outcome in zip(editable, _send(run, payloads, update=True), strict=True):
            _record(run, order, plan, outcome, "update")


def _cancel(run: FlowRun, orders: list[at.PurchaseOrder], entries: dict[str, MapEntry]) -> None:
    if not orders or run.dry_run:
        return
    ids = {o.id: entries[str(o.id)].xero_id or "" for o in orders}
    status = _current_status(run, list(ids.values()))
    deletions = []
    for order in orders:
        current = status.get(ids[order.id], "")
        if current in EDITABLE:
            deletions.append((order, {_id_field(run): ids[order.id], "Status": "DELETED"}))
        elif current not in ("DELETED", "VOIDED"):
            run.problem(order.id, Problem(
                "approved_in_xero", f"Purchase order {order.purchaseOrderNumber} was cancelled in Autotask, but "
                f"its Xero document is already {current.lower() or 'gone'}, so autoxero left it alone.",
                "Void or delete it in Xero by hand if the purchase really was cancelled."),
                str(order.purchaseOrderNumber))
    if deletions:
        for (order, change), outcome in zip(deletions, _send(run, [c for _, c in deletions], update=True), strict=True):
            if outcome.ok:
                run.state.ids.set_status(_kind(run), order.id, "deleted")
                run.state.ledger.append(FLOW, order.id, "delete draft (cancelled in Autotask)", "ok", change)
                run.counts["cancelled"] += 1


def run_scheduled(rt: Runtime, context: LambdaContext, dry_run: bool) -> dict[str, Any]:
    from autoxero.sync.build import build_run, execute_run

    return execute_run(rt, build_run(rt, FLOW, context, dry_run), run_purchase_orders)


def consume(rt: Runtime, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from autoxero.lambda_entry import MalformedEvent

    raise MalformedEvent("the purchase orders flow has no queue: Autotask sends no purchase order webhooks")
