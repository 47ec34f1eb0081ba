"""The invoices flow: approved Autotask invoices -> Xero invoices, negative ones -> credit notes.

This module maps and stamps; the documents go through the one exactly-once write path (sync/once.py) with
their identity: the Autotask-derived InvoiceNumber/CreditNoteNumber, or the Reference when Xero numbers.
Only what that path returns as in Xero is stamped in Autotask.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from itertools import batched
from typing import TYPE_CHECKING, Any

from autoxero.autotask import models as at
from autoxero.autotask.errors import AutotaskValidationError
from autoxero.autotask.query import Query, eq, gt, gte, not_exist
from autoxero.hints import RETRY, SUGGEST
from autoxero.mapping import refusals
from autoxero.mapping.billing import Charges, invoice_sources
from autoxero.mapping.common import Problem, Unmappable
from autoxero.mapping.invoices import document_number, map_invoice, readiness
from autoxero.settings import Numbering
from autoxero.state import Identity, LedgerLine, MapEntry
from autoxero.sync.contacts import sync_companies
from autoxero.sync.holds import held, holding
from autoxero.sync.once import Write, write_once
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

if TYPE_CHECKING:
    from autoxero.mapping.reference import AutotaskReference

FLOW = "invoices"
KIND = "invoice"  # one id-map kind for both documents: an Autotask invoice becomes exactly one of them
VOIDS_CURSOR = "invoice-voids"
CHUNK = 200


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
                    f"send ({SUGGEST} proposes the 1st of this month) and push the settings")


def candidates_query(run: FlowRun) -> Query:
    start = dt.datetime.combine(run.settings.invoices.start_date or run.now().date(), dt.time(), dt.UTC)
    return Query([not_exist("webServiceDate"), eq("isVoided", False), gte("invoiceDateTime", start)])


def _streamed(run: FlowRun) -> Iterable[tuple[at.Invoice, ...]]:
    """Candidates streamed CHUNK at a time as Autotask pages them: a backlog of any size is never held in memory
    at once. Stamped invoices leave the query while it is paged; one the paging passes over because of that is
    still unstamped, and the next run picks it up."""
    query = candidates_query(run)
    for chunk in batched(run.autotask.query_models("Invoices", at.Invoice, query), CHUNK, strict=False):
        if run.counts["candidates"] == 0 and len(chunk) == CHUNK:
            run.counts["candidates"] = run.autotask.count("Invoices", query)  # a backlog: its size, for status
        elif run.counts["candidates"] < CHUNK:
            run.counts["candidates"] += len(chunk)
        yield chunk


def run_invoices(run: FlowRun, invoices: list[at.Invoice] | None = None) -> None:
    """Every candidate (or just `invoices`), 200 at a time: map, write exactly once, then stamp Autotask."""
    if run.settings.invoices.start_date is None:
        run.stopped = START_DATE_UNSET
        return
    chosen = invoices is not None
    chunks = _streamed(run) if invoices is None else batched(invoices, CHUNK, strict=False)
    for part in chunks:
        if run.out_of_time():
            return
        chunk = prepare(run, list(part))
        if run.dry_run:
            for write in chunk.writes:
                run.plan(write.record_id, f"create {write.identity.document.replace('_', ' ')}", write.label,
                         write.payload)
            continue
        _create_missing_items(run, chunk.missing_items)
        written = write_once(run, KIND, chunk.writes, chunk.entries, refusal=partial(_refusal, run, chunk))
        _settle_payments(run, chunk.already, [d.record for d in written
                                              if d.recovered and d.write.identity.document == "invoice"])
        _stamp(run, chunk.synced + [Synced(chunk.invoices[d.write.record_id], d.xero_id, d.number) for d in written])
    if not chosen and not run.out_of_time():
        propagate_voids(run)


def invoice_reference(run: FlowRun, invoices: list[at.Invoice],
                      items: list[at.BillingItem]) -> tuple[Charges, AutotaskReference]:
    """What these invoices' lines are mapped against: their charges, and every code they name, known."""
    charges = read_charges(run, items)
    ref = ensure_known(run, autotask_reference(run),
                       billing_codes={i.billingCodeID for i in items if i.billingCodeID},
                       products=charges.product_ids(),
                       services={i.serviceID for i in items if i.serviceID},
                       service_bundles={i.serviceBundleID for i in items if i.serviceBundleID},
                       tax_categories={i.taxCategoryID for i in items if i.taxCategoryID},
                       templates={t for i in invoices if (t := i.invoiceEditorTemplateID)},
                       payment_terms={i.paymentTerm for i in invoices if i.paymentTerm})
    return charges, ref


@dataclass
class Chunk:
    """A chunk of invoices read and mapped: what to write, and what Xero already has."""

    invoices: dict[int, at.Invoice]
    entries: dict[str, MapEntry]
    writes: list[Write] = field(default_factory=list)
    synced: list[Synced] = field(default_factory=list)  # in Xero already; the stamp was lost
    already: list[str] = field(default_factory=list)  # their Xero ids (invoices only)
    missing_items: set[str] = field(default_factory=set)


def prepare(run: FlowRun, invoices: list[at.Invoice]) -> Chunk:
    invoices = run.without_skipped(invoices, lambda i: i.id, FLOW)
    settings = run.settings.invoices
    ids = [i.id for i in invoices]
    chunk = Chunk({i.id: i for i in invoices}, run.state.ids.get_many(KIND, ids) if invoices else {})
    if not invoices:
        return chunk
    items: dict[int, list[at.BillingItem]] = defaultdict(list)
    for item in run.autotask.query_in("BillingItems", at.BillingItem, "invoiceID", ids):
        if item.invoiceID is not None:
            items[item.invoiceID].append(item)
    companies = {c.id: c for c in run.autotask.query_in("Companies", at.Company, "id",
                                                        sorted({i.companyID for i in invoices}))}
    contacts = _contacts_for(run, companies)
    every_item = [i for lines in items.values() for i in lines]
    charges, ref = invoice_reference(run, invoices, every_item)
    xero = xero_reference(run)
    now = run.now()
    run.cache["invoice_lines"] = items
    run.cache["invoice_sources"] = {
        i.id: invoice_sources(companies.get(i.companyID), items.get(i.id, []), charges, ref) for i in invoices}
    for invoice in invoices:
        label = _label(invoice, companies, run)
        entry = chunk.entries.get(str(invoice.id))
        if entry and entry.status == "synced" and entry.xero_id:
            chunk.synced.append(Synced(invoice, entry.xero_id, entry.xero_number))
            if entry.document == "invoice":
                chunk.already.append(entry.xero_id)
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
                f"hidden from it), then {RETRY}."), label)
            continue
        company = companies.get(invoice.companyID)
        contact_id = contacts.get(invoice.companyID)
        if company is None or contact_id is None:
            run.problem(invoice.id, Problem(
                "contact_not_synced", f"{label}: the company has no Xero contact yet, so the invoice waits.",
                "Resolve the company's own item first (under contacts, where it says what to change); the invoice "
                "follows."), label)
            continue
        if held(run, FLOW, invoice):
            run.counts["held"] += 1  # refused before, and nothing it is made from has changed since
            continue
        try:
            link = settings.deep_link_template.format(id=invoice.id) if settings.deep_link_template else None
            plan = map_invoice(invoice, items.get(invoice.id, []), company, contact_id, ref=ref, xero=xero,
                               settings=settings, deep_link=link, charges=charges)
        except Unmappable as err:
            run.problem(invoice.id, holding(run, invoice, err.problem, set(XERO_PIECES)), label)
            continue
        chunk.missing_items.update(plan.missing_items)
        identity = Identity(str(plan.payload[plan.identity_field]), plan.identity_field, plan.kind, contact_id)
        chunk.writes.append(Write(invoice.id, identity,
                                  plan.payload, plan.content_hash, plan.number,
                                  {"total": str(plan.expected_total), "rounding": str(plan.rounding)}))
    return chunk


def _settle_payments(run: FlowRun, already: list[str], recovered: list[xm.Invoice]) -> None:
    """Invoices in Xero whose stamp was lost, or found after an interrupted run, may have been paid while
    the payments poll could not map them (its cursor has moved past that change): settle their paid status
    before stamping."""
    if already or recovered:
        from autoxero.sync.payments import reconcile_invoices

        reconcile_invoices(run, recovered + (run.xero.invoices_by_id(already) if already else []))


def _contacts_for(run: FlowRun, companies: dict[int, at.Company]) -> dict[int, str]:
    mapped = run.state.ids.get_many("contact", companies)
    result = {int(k): v.xero_id for k, v in mapped.items() if v.status == "synced" and v.xero_id}
    missing = [c for cid, c in companies.items() if cid not in result]
    if missing:
        result.update(sync_companies(run, companies=missing))
    return result


def _refusal(run: FlowRun, chunk: Chunk, write: Write, errors: list[str]) -> Problem:
    message = "; ".join(errors) or "Xero did not accept it"
    fix = f"Correct the cause in Autotask or in settings, then {RETRY}."
    if any("must be unique" in e for e in errors):
        fix = (f"Xero already has a document numbered {write.identity.value} that autoxero did not create. Rename "
               "or void that one in Xero, or set invoices.number_prefix so the two numbering schemes cannot meet; "
               f"then {RETRY}.")
    problem = Problem("xero_rejected", f"Invoice {write.label}: Xero refused it ({message}).", fix, {"errors": errors})
    if refusals.lasting(errors):  # not sent again until the invoice, its lines, the settings or Xero's lists change
        problem = holding(run, chunk.invoices[int(write.record_id)], problem, refusals.named_pieces(write.payload))
        forget_xero_reference(run, refusals.refused_pieces(errors))  # a stale list: the next run reads it afresh
    return problem


def _create_missing_items(run: FlowRun, missing: set[str]) -> None:
    codes = sorted(missing)
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
    ledger: list[LedgerLine] = []
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
            ledger.append(LedgerLine(FLOW, done.invoice.id, "stamp autotask", "ok", body))
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
    invoices = [v for v in voided if v.id in mapped and mapped[v.id].document == "invoice"]
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
        if changes:
            run.hold()
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
