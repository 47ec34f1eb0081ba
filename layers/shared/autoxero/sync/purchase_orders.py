"""The purchase orders flow: Autotask POs that reach the trigger status -> Xero bills (or POs).

Later edits update the Xero draft; a cancelled PO deletes the draft; a document already approved in Xero
is never changed — it goes to attention instead. Exactly once, as for invoices: write-ahead pending and a
look-up by number (and vendor) before any re-create.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from autoxero.autotask import models as at
from autoxero.autotask.query import Query, gte
from autoxero.hints import RETRY
from autoxero.mapping.common import Problem, Unmappable
from autoxero.mapping.purchase_orders import TARGETS, PurchasePlan, map_purchase_order, stage, target
from autoxero.state import Identity, MapEntry
from autoxero.sync.contacts import sync_companies
from autoxero.sync.once import Write, write_once
from autoxero.sync.reference import autotask_reference, xero_reference
from autoxero.sync.run import FlowRun

FLOW = "purchase_orders"
EDITABLE = ("DRAFT", "SUBMITTED")


def _kind(run: FlowRun) -> str:
    return target(run.settings.purchase_orders).name


def orders_in_scope(run: FlowRun) -> tuple[list[at.PurchaseOrder], dict[int, str]]:
    """The purchase orders of the look-back window a person has not skipped, and each one's stage."""
    settings = run.settings.purchase_orders
    since = run.now() - dt.timedelta(days=settings.lookback_days)
    orders = run.without_skipped(list(run.autotask.query_models(
        "PurchaseOrders", at.PurchaseOrder, Query([gte("createDateTime", since)]))), lambda o: o.id, FLOW)
    statuses = autotask_reference(run).picklists.get("PurchaseOrders.status")
    return orders, {o.id: stage(statuses.label(o.status) if statuses else str(o.status), settings) for o in orders}


def run_purchase_orders(run: FlowRun) -> None:
    if not run.settings.purchase_orders.enabled:
        return
    orders, staged = orders_in_scope(run)
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
                                          "Resolve the vendor's own item first (under contacts, where it says "
                                          "what to change); the order follows."), label)
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
        else:
            creates.append((order, plan))
    if run.dry_run:
        for order, plan in creates:
            run.plan(order.id, f"create {plan.target.replace('_', ' ')}", plan.number, plan.payload)
        for order, plan, xero_id in updates:
            run.plan(order.id, f"update {plan.target.replace('_', ' ')}", plan.number, {"id": xero_id, **plan.payload})
        return
    _create(run, creates, entries)
    _update(run, updates)


def _vendor_contacts(run: FlowRun, vendor_ids: set[int]) -> dict[int, str]:
    mapped = run.state.ids.get_many("contact", vendor_ids)
    result = {int(k): v.xero_id for k, v in mapped.items() if v.status == "synced" and v.xero_id}
    missing = sorted(vendor_ids - set(result))
    if missing:
        result.update(sync_companies(run, missing))
    return result


def _send_updates(run: FlowRun, payloads: list[dict[str, Any]]) -> list[Any]:
    run.hold()
    if run.settings.purchase_orders.target == "bill":
        return run.xero.update_invoices(payloads)
    return run.xero.update_purchase_orders(payloads)


def _id_field(run: FlowRun) -> str:
    return target(run.settings.purchase_orders).id_field


def _record(run: FlowRun, order: at.PurchaseOrder, plan: PurchasePlan, outcome: Any) -> None:
    """An update's outcome (creates are recorded by the write path)."""
    xero_id = getattr(outcome.record, _id_field(run), None) if outcome.record is not None else None
    if outcome.ok and xero_id:
        run.state.ids.record(_kind(run), order.id, xero_id=xero_id, identity=_identity(plan),
                             content_hash=plan.content_hash)
        run.state.ledger.append(FLOW, order.id, f"update {plan.target}", "ok",
                                {"xero_id": xero_id, "total": str(plan.total)})
        run.counts["updated"] += 1
        run.resolved(order.id)
    else:
        run.problem(order.id, _refusal(Write(order.id, _identity(plan), plan.payload, plan.content_hash,
                                             plan.number), outcome.errors), plan.number)


def _identity(plan: PurchasePlan) -> Identity:
    return Identity(plan.number, TARGETS[plan.target].number_field, plan.target, plan.payload["Contact"]["ContactID"])


def _create(run: FlowRun, creates: list[tuple[at.PurchaseOrder, PurchasePlan]], entries: dict[str, MapEntry]) -> None:
    """Through the exactly-once write path; a document found after an interrupted run is then brought up to
    date like any other edit."""
    writes = [Write(o.id, _identity(p), p.payload, p.content_hash, p.number, {"total": str(p.total)})
              for o, p in creates]
    by_id = {o.id: (o, p) for o, p in creates}
    written = write_once(run, _kind(run), writes, entries, refusal=_refusal)
    _update(run, [(*by_id[d.write.record_id], d.xero_id) for d in written
                  if d.recovered and entries[str(d.write.record_id)].content_hash != d.write.content_hash])


def _refusal(write: Write, errors: list[str]) -> Problem:
    message = "; ".join(errors) or "Xero did not accept it"
    return Problem("xero_rejected", f"Purchase order {write.label}: Xero refused the "
                   f"{write.identity.document.replace('_', ' ')} ({message}).",
                   f"Correct it in Autotask or settings, then {RETRY}.")


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
        for (order, plan, _), outcome in zip(editable, _send_updates(run, payloads), strict=True):
            _record(run, order, plan, outcome)


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
        for (order, change), outcome in zip(deletions, _send_updates(run, [c for _, c in deletions]), strict=True):
            if outcome.ok:
                run.state.ids.set_status(_kind(run), order.id, "deleted")
                run.state.ledger.append(FLOW, order.id, "delete draft (cancelled in Autotask)", "ok", change)
                run.counts["cancelled"] += 1
