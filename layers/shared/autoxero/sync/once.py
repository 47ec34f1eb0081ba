"""The one exactly-once write path into Xero, for every document autoxero creates: invoices, credit notes,
bills, purchase orders and contacts. A flow hands over what its mapping produced (the payload and the
document's identity, i.e. its look-up key); this module does the rest, always in this order:

1. look before creating again: a pending entry means a run may have created the document and died before
   recording it, so Xero is searched by the identity stored at write-ahead (not the record's current one,
   which may have changed since) — one call per 50 entries — and what is found is adopted;
2. write-ahead: each document about to be created is recorded pending, with its identity (never over a
   synced entry), after renewing the run's lease (a run that lost it writes nothing);
3. create, in batches of 50 carrying a content-derived Idempotency-Key (the client derives it);
4. record Xero's answer in the id map, then the ledger; a refusal goes to a person and never overwrites
   a synced entry.

Only what `write_once` returns may be stamped in Autotask. Xero keeps an Idempotency-Key only minutes, so
step 1, not the key, is what makes a late retry safe.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autoxero.mapping.common import Problem
from autoxero.state import Identity, LedgerLine, MapEntry, Recorded
from autoxero.xero import models as xm
from autoxero.xero.client import quote_where

if TYPE_CHECKING:
    from autoxero.sync.run import FlowRun
    from autoxero.xero.client import XeroClient

LOOKUP_BATCH = 50
CLOCK_MARGIN_SECONDS = 600  # our clock and Xero's may differ: look a little further back than the write-ahead
WHERE_BUDGET = 1_500  # characters of `where` per GET: Xero's URLs stay well under the ~2,000 a GUID list fills


@dataclass(frozen=True, slots=True)
class Document:
    """A kind of Xero document autoxero creates: how it is sent, and how it is found again."""

    name: str
    operation: str
    key: str
    model: type[xm.Wire]
    id_field: str
    number_field: str | None
    params: dict[str, Any] = field(default_factory=dict)


INVOICE = Document("invoice", "create_invoices", "Invoices", xm.Invoice, "InvoiceID", "InvoiceNumber", {"unitdp": 4})
BILL = Document("bill", "create_invoices", "Invoices", xm.Invoice, "InvoiceID", "InvoiceNumber", {"unitdp": 4})
CREDIT_NOTE = Document("credit_note", "create_credit_notes", "CreditNotes", xm.CreditNote, "CreditNoteID",
                       "CreditNoteNumber", {"unitdp": 4})
PURCHASE_ORDER = Document("purchase_order", "create_purchase_orders", "PurchaseOrders", xm.PurchaseOrder,
                          "PurchaseOrderID", "PurchaseOrderNumber")
CONTACT = Document("contact", "create_contacts", "Contacts", xm.Contact, "ContactID", None)
DOCUMENTS = {d.name: d for d in (INVOICE, BILL, CREDIT_NOTE, PURCHASE_ORDER, CONTACT)}


@dataclass(frozen=True, slots=True)
class Write:
    """One document to create for one Autotask record."""

    record_id: int
    identity: Identity
    payload: dict[str, Any]
    content_hash: str
    label: str
    detail: dict[str, Any] = field(default_factory=dict)  # what the ledger keeps beside Xero's id and number


@dataclass(frozen=True, slots=True)
class Written:
    """A document that exists in Xero for a record: created now, or found after an interrupted run."""

    write: Write
    xero_id: str
    number: str | None
    record: Any
    recovered: bool = False


Refusal = Callable[[Write, list[str]], Problem]


def write_once(run: FlowRun, kind: str, writes: list[Write], entries: dict[str, MapEntry], *,
               refusal: Refusal, flow: str | None = None, count_as: str = "created") -> list[Written]:
    """Create each write's document exactly once; returns the documents now known to exist."""
    if not writes:
        return []
    flow = flow or run.flow
    pending = [(w, _stored(e, w), e.updated_at) for w in writes
               if (e := entries.get(str(w.record_id))) is not None and e.status == "pending"]
    found = _find(run, pending)
    written = [_adopt(run, kind, w, identity, found[w.record_id], flow=flow) for w, identity, _ in pending
               if w.record_id in found]
    to_create = [w for w in writes if w.record_id not in found]
    if not to_create:
        return written
    run.hold()
    marked = run.state.ids.mark_pending_many(kind, [(w.record_id, w.identity, w.content_hash) for w in to_create])
    ahead = [w for w in to_create if str(w.record_id) in marked]
    for document, group in _by_document(ahead):
        outcomes = run.xero.write(document.operation, document.key, document.model, [w.payload for w in group],
                                  **document.params)
        recorded: list[Recorded] = []
        ledger: list[LedgerLine] = []
        for write, outcome in zip(group, outcomes, strict=True):
            xero_id = getattr(outcome.record, document.id_field, None) if outcome.record is not None else None
            if outcome.ok and xero_id:
                number = getattr(outcome.record, document.number_field) if document.number_field else None
                recorded.append(Recorded(write.record_id, xero_id, write.identity, write.content_hash, number,
                                         {"document": document.name}))
                ledger.append(LedgerLine(flow, write.record_id, f"create {document.name.replace('_', ' ')}", "ok",
                                         {"xero_id": xero_id, "number": number, **write.detail}))
                written.append(Written(write, xero_id, number, outcome.record))
            else:
                run.problem(write.record_id, refusal(write, outcome.errors), write.label, flow=flow)
                run.state.ids.refused(kind, write.record_id)
        run.state.ids.record_many(kind, recorded)
        run.state.ledger.append_many(ledger)
        run.counts[count_as] += len(recorded)
        for entry in recorded:
            run.resolved(entry.autotask_id, flow=flow)
    return written


def _stored(entry: MapEntry, write: Write) -> Identity:
    """The identity the write-ahead stored; an entry from before identities were stored has only a value."""
    if not entry.identity.field:
        return write.identity
    return entry.identity


# ----------------------------------------------------------------------------- look before creating again


def _find(run: FlowRun, pending: list[tuple[Write, Identity, int]]) -> dict[int, Any]:
    """Record id -> the Xero record carrying its stored identity, for the type and contact it was sent to."""
    found: dict[int, Any] = {}
    groups: dict[tuple[str, str], list[tuple[Write, Identity, int]]] = defaultdict(list)
    for write, identity, written_at in pending:
        groups[(identity.document, identity.field)].append((write, identity, written_at))
    for (document, field_name), group in groups.items():
        since = dt.datetime.fromtimestamp(min(at for _, _, at in group) - CLOCK_MARGIN_SECONDS, dt.UTC)
        records = _lookup(run.xero, DOCUMENTS[document], field_name, [i.value for _, i, _ in group], since)
        by_value = defaultdict(list)
        for record in records:
            by_value[str(getattr(record, field_name, "") or "")].append(record)
        for write, identity, _ in group:
            match = next((r for r in by_value.get(identity.value, []) if _same(r, document, identity)), None)
            if match is not None:
                found[write.record_id] = match
    return found


def _same(record: Any, document: str, identity: Identity) -> bool:
    if getattr(record, "Status", None) == "DELETED":
        return False
    if document in ("invoice", "bill") and record.Type != ("ACCREC" if document == "invoice" else "ACCPAY"):
        return False
    contact = getattr(record, "Contact", None)
    return not identity.contact_id or (contact is not None and contact.ContactID == identity.contact_id)


def _lookup(xero: XeroClient, document: Document, field_name: str, values: list[str],
            since: dt.datetime) -> list[Any]:
    """One call per 50 values. Xero filters purchase orders by nothing but dates and status, so those are
    read a page (100) at a time among the ones changed since the earliest write-ahead."""
    values = list(dict.fromkeys(values))
    if document.model is xm.Invoice and field_name == "InvoiceNumber":
        return xero.invoices_by_number(values)
    if document is PURCHASE_ORDER:
        return list(xero.purchase_orders(modified_since=since))
    found: list[Any] = []
    for chunk in _where_chunks(field_name, values):
        where = " OR ".join(f"{field_name}=={quote_where(v)}" for v in chunk)
        if document.model is xm.Invoice:
            found += xero.invoices(where=where)
        elif document is CREDIT_NOTE:
            found += xero.credit_notes(where=where)
        else:
            found += xero.contacts(where=where)
    return found


def _where_chunks(field_name: str, values: list[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    size = 0
    for value in values:
        cost = len(field_name) + len(quote_where(value)) + 6
        if chunk and (len(chunk) >= LOOKUP_BATCH or size + cost > WHERE_BUDGET):
            yield chunk
            chunk, size = [], 0
        chunk.append(value)
        size += cost
    if chunk:
        yield chunk


def _adopt(run: FlowRun, kind: str, write: Write, identity: Identity, record: Any, *, flow: str) -> Written:
    document = DOCUMENTS[identity.document]
    xero_id = str(getattr(record, document.id_field))
    number = getattr(record, document.number_field) if document.number_field else None
    run.state.ids.record(kind, write.record_id, xero_id=xero_id, identity=identity, content_hash=write.content_hash,
                         xero_number=number, extra={"document": identity.document})
    run.state.ledger.append(flow, write.record_id, "recovered", "ok",
                            {"xero_id": xero_id, "why": "found in Xero after an interrupted run"})
    run.counts["recovered"] += 1
    run.resolved(write.record_id, flow=flow)
    return Written(write, xero_id, number, record, recovered=True)


def _by_document(writes: Iterable[Write]) -> list[tuple[Document, list[Write]]]:
    groups: dict[str, list[Write]] = defaultdict(list)
    for write in writes:
        groups[write.identity.document].append(write)
    return [(DOCUMENTS[name], group) for name, group in groups.items()]
