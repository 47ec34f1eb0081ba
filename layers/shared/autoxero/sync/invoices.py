"""The invoices flow: approved Autotask invoices -> Xero invoices, negative ones -> credit notes.

Exactly once (docs/design.md): the id map is marked pending before the Xero call; every document carries a
deterministic number (or Reference) and an Idempotency-Key; a pending entry is looked up in Xero (one
call per 50) before anything is created again; only then is the Autotask invoice stamped.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import batched
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autoxero.autotask import models as at
from autoxero.autotask.errors import AutotaskValidationError
from autoxero.autotask.query import Query, eq, gt, gte, not_exist
from autoxero.mapping import refusals
from autoxero.mapping.common import Problem, Unmappable
from autoxero.mapping.invoices import DocumentPlan, document_number, map_invoice, readiness
from autoxero.settings import Numbering
from autoxero.state import MapEntry
from autoxero.sync.contacts import sync_companies
from autoxero.sync.holds import held, holding
from autoxero.sync.reference import (
    XERO_PIECES,
    autotask_reference,
    ensure_known,
    forget_xero_reference,
    read_charges,
    xero_reference,
)
from autoxero.sync.run import FlowRun
from autoxero.xero import models as xm
from autoxero.xero.client import WriteOutcome, quote_where

if TYPE_CHECKING:
    from autoxero.runtime import Runtime

FLOW = "invoices"
KIND = "invoice"  # one id-map kind for both documents: an Autotask invoice becomes exactly one of them
VOIDS_CURSOR = "invoice-voids"
CHUNK = 200
WHERE_OR_CHUNK = 10


@dataclass(frozen=True, slots=True)
class Synced:
    invoice: at.Invoice
    xero_id: str
    xero_number: str | None


def _label(invoice: at.Invoice, companies: dict[int, at.Company], run: FlowRun) -> str:
    company = companies.get(invoice.companyID)
    return f"Invoice {document_number(invoice, run.settings.invoices)}" + (
        f" ({company.companyName})" if company else "")


START_DATE_UNSET = ("invoices.start_date is not set, so no invoice was sent: choose the first invoice date to "
                    "send (`autoxero settings suggest` proposes the 1st of this month) and push the settings")


def candidates_query(run: FlowRun) -> Query:
    start = dt.datetime.combine(run.settings.invoices.start_date or run.now().date(), dt.time(), dt.UTC)
    return Query([not_exist("webServiceDate"), eq("isVoided", False), gte("invoiceDateTime", start)])


def run_invoices(run: FlowRun) -> None:
    """Candidates are streamed, CHUNK at a time, as Autotask pages them: a backlog of any size is never held
    in memory at once. Stamped invoices leave the query while it is paged; one the paging passes over because of
    that is still unstamped, and the next run picks it up."""
    if run.settings.invoices.start_date is None:
        run.stopped = START_DATE_UNSET
        return
    query = candidates_query(run)
    for chunk in batched(run.autotask.query_models("Invoices", at.Invoice, query), CHUNK, strict=False):
        if run.counts["candidates"] == 0 and len(chunk) == CHUNK:
            run.counts["candidates"] = run.autotask.count("Invoices", query)  # a backlog: its size, for status
        elif run.counts["candidates"] < CHUNK:
            run.counts["candidates"] += len(chunk)
        if run.out_of_time():
            return
        sync_invoices(run, list(chunk))
    if not run.out_of_time():
        propagate_voids(run)


def sync_invoices(run: FlowRun, invoices: list[at.Invoice]) -> None:
    invoices = run.without_skipped(invoices, lambda i: i.id, FLOW)
    if not invoices:
        return
    settings = run.settings.invoices
    ids = [i.id for i in invoices]
    items: dict[int, list[at.BillingItem]] = defaultdict(list)
    for item in run.autotask.query_in("BillingItems", at.BillingItem, "invoiceID", ids):
        if item.invoiceID is not None:
            items[item.invoiceID].append(item)
    companies = {c.id: c for c in run.autotask.query_in("Companies", at.Company, "id",
                                                        sorted({i.companyID for i in invoices}))}
    contacts = _contacts_for(run, companies)
    entries = run.state.ids.get_many(KIND, ids)
    every_item = [i for lines in items.values() for i in lines]
    charges = read_charges(run, every_item)
    ref = ensure_known(run, autotask_reference(run),
                       billing_codes={i.billingCodeID for i in every_item if i.billingCodeID},
                       products=charges.product_ids(),
                       services={i.serviceID for i in every_item if i.serviceID},
                       service_bundles={i.serviceBundleID for i in every_item if i.serviceBundleID},
                       tax_categories={i.taxCategoryID for i in every_item if i.taxCategoryID},
                       templates={t for i in invoices if (t := i.invoiceEditorTemplateID)},
                       payment_terms={i.paymentTerm for i in invoices if i.paymentTerm})
    xero = xero_reference(run)
    now = run.now()
    run.cache["invoice_lines"] = items

    already: list[Synced] = []
    plans: list[tuple[at.Invoice, DocumentPlan]] = []
    for invoice in invoices:
        label = _label(invoice, companies, run)
        entry = entries.get(str(invoice.id))
        if entry and entry.status == "synced" and entry.xero_id:
            already.append(Synced(invoice, entry.xero_id, entry.xero_number))  # created; the stamp was lost
            continue
        state = readiness(invoice, items.get(invoice.id, []), now, settings.settle_minutes)
        if state == "wait":
            run.counts["waiting"] += 1
            continue
        if state == "mismatch":
            run.problem(invoice.id, Problem(
                "incomplete_invoice", f"{label}: its billing items do not add up to the invoice total "
                f"{invoice.invoiceTotal:.2f}, even after {settings.settle_minutes} minutes.",
                "Check that the Autotask API user is in every Line of Business (invoices of other lines are "
                "hidden from it), then retry with `autoxero attention retry`."), label)
            continue
        company = companies.get(invoice.companyID)
        contact_id = contacts.get(invoice.companyID)
        if company is None or contact_id is None:
            run.problem(invoice.id, Problem(
                "contact_not_synced", f"{label}: the company has no Xero contact yet, so the invoice waits.",
                "Resolve the company's own item in `autoxero attention` (contacts); the invoice follows."), label)
            continue
        if held(run, FLOW, invoice):
            run.counts["held"] += 1  # refused before, and nothing it is made from has changed since
            continue
        try:
            link = settings.deep_link_template.format(id=invoice.id) if settings.deep_link_template else None
            plans.append((invoice, map_invoice(invoice, items.get(invoice.id, []), company, contact_id,
                                               ref=ref, xero=xero, settings=settings, deep_link=link,
                                               charges=charges)))
        except Unmappable as err:
            run.problem(invoice.id, holding(run, invoice, err.problem, set(XERO_PIECES)), label)

    if run.dry_run:
        for invoice, plan in plans:
            run.plan(invoice.id, f"create {plan.kind.replace('_', ' ')}", plan.number, plan.payload)
        return
    _settle_payments(run, already, entries)
    found = _find_pending(run, [(i, p) for i, p in plans if _pending(entries.get(str(i.id)))])
    to_create = [(i, p) for i, p in plans if i.id not in found]
    synced = already + list(found.values()) + _create(run, to_create)
    _stamp(run, synced)


def _settle_payments(run: FlowRun, already: list[Synced], entries: dict[str, MapEntry]) -> None:
    """Invoices in Xero whose stamp was lost (e.g. a run died after recovering them) may have been paid
    meanwhile, while the payments poll could not map them: settle their paid status before stamping."""
    ids = [s.xero_id for s in already if entries[str(s.invoice.id)].extra.get("document", "invoice") == "invoice"]
    if ids:
        from autoxero.sync.payments import reconcile_invoices

        reconcile_invoices(run, run.xero.invoices_by_id(ids))


def _pending(entry: MapEntry | None) -> bool:
    return entry is not None and entry.status == "pending"


def _contacts_for(run: FlowRun, companies: dict[int, at.Company]) -> dict[int, str]:
    mapped = run.state.ids.get_many("contact", companies)
    result = {int(k): v.xero_id for k, v in mapped.items() if v.status == "synced" and v.xero_id}
    missing = [c for cid, c in companies.items() if cid not in result]
    if missing:
        result.update(sync_companies(run, companies=missing))
    return result


# ----------------------------------------------------------------------------- exactly once


def _find_pending(run: FlowRun, pending: list[tuple[at.Invoice, DocumentPlan]]) -> dict[int, Synced]:
    """A pending entry means we may have created the document and lost the answer: look before creating."""
    found: dict[int, Synced] = {}
    if not pending:
        return found
    recovered: list[xm.Invoice] = []
    invoices = [(i, p) for i, p in pending if p.kind == "invoice"]
    notes = [(i, p) for i, p in pending if p.kind == "credit_note"]
    by_number = [(i, p) for i, p in invoices if p.identity_field == "InvoiceNumber"]
    if by_number:
        existing = {x.InvoiceNumber: x for x in run.xero.invoices_by_number([p.number for _, p in by_number])}
        for invoice, plan in by_number:
            hit = existing.get(plan.number)
            if hit and hit.InvoiceID and hit.Contact and hit.Contact.ContactID == plan.payload["Contact"]["ContactID"]:
                found[invoice.id] = _adopt(run, invoice, plan, hit.InvoiceID, hit.InvoiceNumber)
                recovered.append(hit)
    by_reference = [(i, p) for i, p in invoices if p.identity_field == "Reference"]
    for chunk in _chunks(by_reference, WHERE_OR_CHUNK):
        where = " OR ".join(f"Reference=={quote_where(p.payload['Reference'])}" for _, p in chunk)
        existing_refs = {x.Reference: x for x in run.xero.invoices(where=where) if x.Type == "ACCREC"}
        for invoice, plan in chunk:
            ref_hit = existing_refs.get(plan.payload["Reference"])
            if ref_hit and ref_hit.InvoiceID:
                found[invoice.id] = _adopt(run, invoice, plan, ref_hit.InvoiceID, ref_hit.InvoiceNumber)
                recovered.append(ref_hit)
    for chunk in _chunks(notes, WHERE_OR_CHUNK):
        field = chunk[0][1].identity_field
        where = " OR ".join(f"{field}=={quote_where(p.payload[field])}" for _, p in chunk)
        existing_notes = {getattr(x, field): x for x in run.xero.credit_notes(where=where)}
        for invoice, plan in chunk:
            note = existing_notes.get(plan.payload[field])
            if note and note.CreditNoteID:
                found[invoice.id] = _adopt(run, invoice, plan, note.CreditNoteID, note.CreditNoteNumber)
    if recovered:
        # A recovered invoice may have been paid while it was unmapped, and the payments poll has already
        # moved its cursor past that change: settle its paid status now.
        from autoxero.sync.payments import reconcile_invoices

        reconcile_invoices(run, recovered)
    return found


def _adopt(run: FlowRun, invoice: at.Invoice, plan: DocumentPlan, xero_id: str, number: str | None) -> Synced:
    run.state.ids.record(KIND, invoice.id, xero_id=xero_id, identity=plan.number, content_hash=plan.content_hash,
                         xero_number=number, extra={"document": plan.kind})
    run.state.ledger.append(FLOW, invoice.id, "recovered", "ok",
                            {"xero_id": xero_id, "why": "found in Xero after an interrupted run"})
    run.counts["recovered"] += 1
    run.resolved(invoice.id)
    return Synced(invoice, xero_id, number)


def _chunks[T](items: list[T], size: int) -> Iterable[list[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# ----------------------------------------------------------------------------- create and stamp


def _create(run: FlowRun, plans: list[tuple[at.Invoice, DocumentPlan]]) -> list[Synced]:
    if not plans:
        return []
    _create_missing_items(run, plans)
    run.state.ids.mark_pending_many(KIND, [(i.id, p.number, p.content_hash) for i, p in plans])
    synced: list[Synced] = []
    groups: list[tuple[list[tuple[at.Invoice, DocumentPlan]], Callable[[list[dict[str, Any]]], Any], str, str]] = [
        ([(i, p) for i, p in plans if p.kind == "invoice"], run.xero.create_invoices, "InvoiceID", "InvoiceNumber"),
        ([(i, p) for i, p in plans if p.kind == "credit_note"], run.xero.create_credit_notes, "CreditNoteID",
         "CreditNoteNumber"),
    ]
    for group, send, id_field, number_field in groups:
        if not group:
            continue
        outcomes: list[WriteOutcome[Any]] = send([p.payload for _, p in group])
        recorded: list[dict[str, Any]] = []
        ledger: list[tuple[str, str | int, str, str, dict[str, Any] | None]] = []
        for (invoice, plan), outcome in zip(group, outcomes, strict=True):
            record = outcome.record
            xero_id = getattr(record, id_field, None) if record is not None else None
            if outcome.ok and xero_id:
                number = getattr(record, number_field, None)
                recorded.append({"autotask_id": invoice.id, "xero_id": xero_id, "identity": plan.number,
                                 "content_hash": plan.content_hash, "xero_number": number,
                                 "extra": {"document": plan.kind}})
                ledger.append((FLOW, invoice.id, f"create {plan.kind}", "ok", {
                    "xero_id": xero_id, "number": number, "total": str(plan.expected_total),
                    "rounding": str(plan.rounding)}))
                synced.append(Synced(invoice, xero_id, number))
            else:
                _rejected(run, invoice, plan, outcome.errors)
        run.state.ids.record_many(KIND, recorded)
        run.state.ledger.append_many(ledger)
        run.counts["created"] += len(recorded)
        for entry in recorded:
            run.resolved(entry["autotask_id"])
    return synced


def _rejected(run: FlowRun, invoice: at.Invoice, plan: DocumentPlan, errors: list[str]) -> None:
    message = "; ".join(errors) or "Xero did not accept it"
    fix = "Correct the cause in Autotask or in settings, then `autoxero attention retry`."
    if any("must be unique" in e for e in errors):
        fix = (f"Xero already has a document numbered {plan.number} that autoxero did not create. Rename or "
               "void that one in Xero, or set invoices.number_prefix so the two numbering schemes cannot meet; "
               "then `autoxero attention retry`.")
    problem = Problem("xero_rejected", f"Invoice {plan.number}: Xero refused it ({message}).", fix, {"errors": errors})
    if refusals.lasting(errors):  # not sent again until the invoice, its lines, the settings or Xero's lists change
        problem = holding(run, invoice, problem, refusals.named_pieces(plan.payload))
        forget_xero_reference(run, refusals.refused_pieces(errors))  # a stale list: the next run reads it afresh
    run.problem(invoice.id, problem, plan.number)
    run.state.ids.set_status(KIND, invoice.id, "failed")


def _create_missing_items(run: FlowRun, plans: list[tuple[at.Invoice, DocumentPlan]]) -> None:
    codes = sorted({code for _, p in plans for code in p.missing_items})
    if not codes:
        return
    outcomes = run.xero.create_items([{"Code": code, "Name": code[:50], "IsSold": True} for code in codes])
    created = {code for code, o in zip(codes, outcomes, strict=True) if o.ok}
    run.counts["items_created"] += len(created)
    xero_reference(run).with_items(created)


def _stamp(run: FlowRun, synced: list[Synced]) -> None:
    """Mark the Autotask invoices exported (webServiceDate), and write Xero's number back when Xero numbers."""
    settings = run.settings.invoices
    stamp = run.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    ledger: list[tuple[str, str | int, str, str, dict[str, Any] | None]] = []
    for done in synced:
        body: dict[str, Any] = {"id": done.invoice.id}
        if settings.stamp_web_service_date:
            body["webServiceDate"] = stamp
        if settings.numbering is Numbering.XERO and done.xero_number and done.xero_number != done.invoice.invoiceNumber:
            body["invoiceNumber"] = done.xero_number[:100]
        if len(body) > 1:
            # Cleared before the PATCH: a run that dies after Autotask applied it must not leave a stale item
            # (the stamped invoice is never a candidate again); a refused PATCH raises it afresh below.
            run.resolved(done.invoice.id)
            try:
                run.autotask.patch("Invoices", body)
            except AutotaskValidationError as err:  # one refused stamp never stops the others
                run.problem(done.invoice.id, Problem(
                    "stamp_failed", f"Invoice {done.invoice.invoiceNumber} is in Xero, but Autotask refused to "
                    f"mark it exported ({err}).", "Check the API user's permission to edit invoices; autoxero "
                    "tries again on every run and never sends the invoice to Xero twice."))
                continue
            ledger.append((FLOW, done.invoice.id, "stamp autotask", "ok", body))
            run.counts["stamped"] += 1
    run.state.ledger.append_many(ledger)


# ----------------------------------------------------------------------------- voids


def propagate_voids(run: FlowRun) -> None:
    """An invoice voided in Autotask after it synced: void (or delete, if draft) in Xero when unpaid."""
    if not run.settings.invoices.void_in_xero:
        return
    cursor = run.state.cursors.get(VOIDS_CURSOR)
    since = dt.datetime.fromisoformat(cursor) if cursor else dt.datetime.combine(
        run.settings.invoices.start_date or run.now().date(), dt.time(), dt.UTC)
    voided = list(run.autotask.query_models("Invoices", at.Invoice,
                                            Query([eq("isVoided", True), gt("voidedDate", since)])))
    entries = run.state.ids.get_many(KIND, [v.id for v in voided])
    mapped = {int(k): e for k, e in entries.items() if e.status == "synced" and e.xero_id}
    invoices = [v for v in voided if v.id in mapped and mapped[v.id].extra.get("document", "invoice") == "invoice"]
    if invoices and not run.dry_run:
        current = {x.InvoiceID: x for x in run.xero.invoices_by_id([mapped[v.id].xero_id or "" for v in invoices])}
        changes: list[tuple[at.Invoice, dict[str, Any]]] = []
        for invoice in invoices:
            xero_invoice = current.get(mapped[invoice.id].xero_id)
            if xero_invoice is None:
                continue
            status = xero_invoice.Status or ""
            paid = (xero_invoice.AmountPaid or 0) + (xero_invoice.AmountCredited or 0)
            if status in ("DRAFT", "SUBMITTED"):
                changes.append((invoice, {"InvoiceID": xero_invoice.InvoiceID, "Status": "DELETED"}))
            elif status == "AUTHORISED" and paid == 0:
                changes.append((invoice, {"InvoiceID": xero_invoice.InvoiceID, "Status": "VOIDED"}))
            elif status not in ("VOIDED", "DELETED"):
                run.problem(invoice.id, Problem(
                    "voided_but_paid", f"Invoice {invoice.invoiceNumber} was voided in Autotask, but in Xero it "
                    f"is {status.lower()} with {paid:.2f} paid or credited, so autoxero left it alone.",
                    "Decide in Xero: remove the payment and void the invoice, or issue a credit note."),
                    str(invoice.invoiceNumber))
        for (invoice, change), outcome in zip(changes, run.xero.update_invoices([c for _, c in changes]),
                                              strict=True):
            if outcome.ok:
                run.state.ids.set_status(KIND, invoice.id, "voided")
                run.state.ledger.append(FLOW, invoice.id, f"xero {change['Status'].lower()}", "ok", change)
                run.counts["voided"] += 1
            else:
                run.problem(invoice.id, Problem("void_failed", f"Invoice {invoice.invoiceNumber}: Xero refused to "
                            f"void it ({'; '.join(outcome.errors)}).", "Void it by hand in Xero."),
                            str(invoice.invoiceNumber))
    newest = max((v.voidedDate for v in voided if v.voidedDate), default=None)
    if newest and not run.dry_run and (not cursor or newest.isoformat() > cursor):
        run.state.cursors.advance(VOIDS_CURSOR, newest.isoformat())


# ----------------------------------------------------------------------------- Lambda entry points


def run_scheduled(rt: Runtime, context: LambdaContext, dry_run: bool) -> dict[str, Any]:
    from autoxero.sync.build import build_run, execute_run

    return execute_run(rt, build_run(rt, FLOW, context, dry_run), run_invoices)


def consume(rt: Runtime, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from autoxero.lambda_entry import MalformedEvent

    raise MalformedEvent("the invoices flow has no queue: Autotask sends no invoice webhooks")
