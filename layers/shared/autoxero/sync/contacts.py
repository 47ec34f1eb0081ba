"""The contacts flow: Autotask companies (and their billing contact) -> Xero contacts.

The id map is the truth once a company is matched: a rename in Autotask renames the Xero contact. A new
company is matched by its ContactNumber stamp, then by exact name or account number (settings); anything
ambiguous goes to attention, never to a second contact.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from autoxero.autotask import models as at
from autoxero.autotask.query import Query, eq, gt, in_
from autoxero.hints import RETRY
from autoxero.mapping.common import Problem, Unmappable
from autoxero.mapping.contacts import ContactPlan, XeroContactIndex, map_company, match_contact
from autoxero.state import Identity
from autoxero.sync.once import Write, write_once
from autoxero.sync.reference import autotask_reference
from autoxero.sync.run import FlowRun

FLOW = "contacts"
KIND = "contact"
CURSOR = "contacts"


def _count(run: FlowRun, key: str) -> None:
    """Counted as the run's own when this is the contacts flow, else as contacts another flow needed."""
    run.counts[key if run.flow == FLOW else f"contacts_{key}"] += 1


def xero_index(run: FlowRun) -> XeroContactIndex:
    cached = run.cache.get("xero_contacts")
    if isinstance(cached, XeroContactIndex):
        return cached
    index = XeroContactIndex(run.xero.contacts(include_archived=True))
    run.cache["xero_contacts"] = index
    return index


def customer_and_vendor_types(run: FlowRun) -> list[int]:
    picklist = autotask_reference(run, for_invoices=False).picklists.get("Companies.companyType")
    labels = picklist.labels if picklist else {"1": "Customer", "7": "Vendor"}
    wanted = [v for v, label in labels.items() if label.casefold() in ("customer", "vendor")]
    return [int(v) for v in wanted]


def sync_companies(run: FlowRun, company_ids: Iterable[int] | None = None,
                   companies: list[at.Company] | None = None) -> dict[int, str]:
    """Bring these companies' Xero contacts up to date; returns company id -> ContactID for those in Xero."""
    if companies is None:
        ids = sorted(set(company_ids or []) - {at.OWN_COMPANY_ID})
        companies = list(run.autotask.query_in("Companies", at.Company, "id", ids)) if ids else []
    companies = [c for c in companies if c.id != at.OWN_COMPANY_ID]  # the MSP itself is nobody's contact
    companies = run.without_skipped(companies, lambda c: c.id, FLOW)
    if not companies:
        return {}
    ref = autotask_reference(run, for_invoices=False)
    people = list(run.autotask.query_in("Contacts", at.Contact, "companyID", [c.id for c in companies],
                                        [eq("isActive", 1)]))
    mapped = run.state.ids.get_many(KIND, [c.id for c in companies])
    settings = run.settings.contacts
    result: dict[int, str] = {}
    creates: list[tuple[at.Company, ContactPlan]] = []
    updates: list[tuple[at.Company, ContactPlan, str]] = []
    for company in companies:
        try:
            plan = map_company(company, people, ref, settings)
            entry = mapped.get(str(company.id))
            contact_id = entry.xero_id if entry and entry.status == "synced" else None
            if contact_id is None:
                contact_id = match_contact(plan, company, xero_index(run), settings)
            if contact_id and entry and entry.status == "synced" and entry.content_hash == plan.content_hash:
                _count(run, "skipped")
                result[company.id] = contact_id
                run.resolved(company.id, flow=FLOW)
                continue
        except Unmappable as problem:
            run.problem(company.id, problem.problem, company.companyName, flow=FLOW)
            continue
        if contact_id:
            updates.append((company, plan, contact_id))
        else:
            creates.append((company, plan))
    if run.dry_run:
        for company, plan in creates:
            run.plan(company.id, "create contact", plan.name, plan.payload)
        for company, plan, contact_id in updates:
            run.plan(company.id, "update contact", plan.name, {"ContactID": contact_id, **plan.payload})
            result[company.id] = contact_id
        return result
    result.update(_write(run, creates, updates))
    return result


def _write(run: FlowRun, creates: list[tuple[at.Company, ContactPlan]],
           updates: list[tuple[at.Company, ContactPlan, str]]) -> dict[int, str]:
    """Creates through the exactly-once write path; updates are idempotent (the same content again changes
    nothing), so they need no write-ahead: a crash before the record only means the next run sends them again."""
    entries = run.state.ids.get_many(KIND, [c.id for c, _ in creates])
    writes = [Write(c.id, Identity(p.payload["ContactNumber"], "ContactNumber", "contact"), p.payload, p.content_hash,
                    p.name, {"Name": p.name}) for c, p in creates]
    written = write_once(run, KIND, writes, entries, refusal=_refusal, flow=FLOW,
                         count_as="created" if run.flow == FLOW else "contacts_created")
    result = {d.write.record_id: d.xero_id for d in written}
    for done in written:
        if "xero_contacts" in run.cache and done.record is not None:
            run.cache["xero_contacts"].add(done.record)
    if updates:
        run.hold()
        payloads = [{**plan.payload, "ContactID": contact_id} for _, plan, contact_id in updates]
        for (company, plan, _), outcome in zip(updates, run.xero.update_contacts(payloads), strict=True):
            if outcome.ok and outcome.record and outcome.record.ContactID:
                contact_id = outcome.record.ContactID
                run.state.ids.record(KIND, company.id, xero_id=contact_id, content_hash=plan.content_hash,
                                     identity=Identity(plan.payload["ContactNumber"], "ContactNumber", "contact"))
                run.state.ledger.append(FLOW, company.id, "update", "ok", {"ContactID": contact_id, "Name": plan.name})
                _count(run, "updated")
                run.resolved(company.id, flow=FLOW)
                result[company.id] = contact_id
            else:
                run.problem(company.id, _refusal(Write(company.id, Identity(plan.name), plan.payload,
                                                       plan.content_hash, plan.name), outcome.errors),
                            plan.name, flow=FLOW)
    return result


def _refusal(write: Write, errors: list[str]) -> Problem:
    message = "; ".join(errors) or "Xero did not accept the contact"
    return Problem("xero_rejected_contact", f"{write.label}: Xero refused the contact ({message}).",
                   "Correct the company in Autotask (or the clashing contact in Xero) and retry it with "
                   f"{RETRY}.")


def run_contacts(run: FlowRun) -> None:
    """The scheduled run: every company changed since the cursor (first run: all customers and vendors)."""
    cursor = run.state.cursors.get(CURSOR)
    types = customer_and_vendor_types(run)
    filters = [eq("isActive", True), in_("companyType", types)]
    if cursor:
        filters.append(gt("lastTrackedModifiedDateTime", cursor))
    companies = list(run.autotask.query_models("Companies", at.Company, Query(filters)))
    if cursor:
        changed_people = run.autotask.query_models("Contacts", at.Contact, Query([gt("lastModifiedDate", cursor)]))
        extra = {p.companyID for p in changed_people} - {c.id for c in companies}
        if extra:
            companies += [c for c in run.autotask.query_in("Companies", at.Company, "id", sorted(extra))
                          if c.isActive and c.companyType in types]
    started = run.now()
    for start in range(0, len(companies), 200):
        if run.out_of_time():
            return
        sync_companies(run, companies=companies[start:start + 200])
    if not run.dry_run:
        newest = max((c.lastTrackedModifiedDateTime for c in companies if c.lastTrackedModifiedDateTime),
                     default=None)
        position = min(started, newest) if newest else started
        if not cursor or position.isoformat() > cursor:
            run.state.cursors.advance(CURSOR, position.isoformat())


def company_of(run: FlowRun, message: dict[str, Any]) -> int | None:
    """The company an Autotask Company or Contact webhook event is about (a contact's is read from Autotask)."""
    if "id" not in message:
        raise ValueError("not an Autotask event message")
    if message.get("entity") == "Company":
        return int(message["id"])
    if message.get("company_id"):
        return int(message["company_id"])
    record = run.autotask.get("Contacts", int(message["id"]))
    return int(record["companyID"]) if record else None
