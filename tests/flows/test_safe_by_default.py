"""A new or paused stack writes nothing anywhere; a skipped record never syncs; invoices.start_date must
be chosen. Truth is read from the simulators' and the table's own state."""

from __future__ import annotations

import json

import pytest

from autoxero.settings import SyncSettings
from autoxero.sync.build import build_run, execute_run
from autoxero.sync.contacts import run_contacts
from autoxero.sync.invoices import START_DATE_UNSET, run_invoices
from autoxero_cli.invoke import invoke
from autoxero_cli.local import LocalDeployment

FUNCTIONS = {"contacts": "SyncContactsFunction", "invoices": "SyncInvoicesFunction",
             "purchase_orders": "SyncPurchaseOrdersFunction", "payments": "SyncPaymentsFunction"}


def table_items(local: LocalDeployment) -> list[dict]:
    table = local.runtime().state.table.table
    return sorted(json.dumps(i, sort_keys=True, default=str) for i in table.scan()["Items"])


def calls(local: LocalDeployment) -> tuple[int, int]:
    return local.sandbox.autotask.calls.snapshot()["total"], local.sandbox.xero.calls.snapshot()["total"]


def sqs_event(body: dict) -> dict:
    return {"Records": [{"messageId": "m-1", "receiptHandle": "r", "body": json.dumps(body),
                         "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                         "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:q",
                         "awsRegion": "us-east-1"}]}


def assert_writes_nothing(local: LocalDeployment) -> None:
    before_items, before_calls = table_items(local), calls(local)
    xero_before = {e: local.sandbox.xero.state(e) for e in ("Contacts", "Invoices", "CreditNotes")}
    for flow, function in FUNCTIONS.items():
        summary = invoke(function, {"flow": flow}, local.stack, local.sandbox.endpoints)
        assert summary["paused"] is True and "paused" in summary["stopped"], summary
    invoke("SyncContactsFunction", sqs_event({"entity": "Company", "id": 1, "action": "Update",
                                              "guid": "g-1", "source": "autotask"}),
           local.stack, local.sandbox.endpoints)
    assert table_items(local) == before_items  # not even a lease, a run record or an idempotency record
    assert calls(local) == before_calls  # neither API was called
    assert {e: local.sandbox.xero.state(e) for e in xero_before} == xero_before


def test_a_new_stack_starts_paused_and_writes_nothing(aws, sandbox, demo_fixture):
    sandbox.load(demo_fixture)
    local = LocalDeployment.create(sandbox)
    local.connect_xero_directly()
    rt = local.runtime()
    assert rt.state.control.paused()
    rt.state.settings.save(SyncSettings.model_validate({"invoices": {"start_date": "2000-01-01"}}), 0)
    assert_writes_nothing(local)  # settings alone do not start it: a person resumes


def test_a_paused_stack_writes_nothing_and_resumes_where_it_stopped(local):
    rt = local.runtime()
    rt.state.control.pause("ann@example.com", "month-end close")
    assert_writes_nothing(local)
    rt.state.control.resume("ann@example.com")
    contacts = execute_run(rt, build_run(rt, "contacts", None, False), run_contacts)
    assert contacts.get("created", 0) > 0 and not contacts.get("paused")


def test_a_dry_run_is_allowed_while_paused(local):
    rt = local.runtime()
    rt.state.control.pause("ann", "checking first")
    run = build_run(rt, "contacts", None, True)
    summary = execute_run(rt, run, run_contacts)
    assert not summary.get("paused") and any(p["action"] == "create contact" for p in run.plans)
    assert local.sandbox.xero.calls.snapshot()["calls"].get("PUT /api.xro/2.0/Contacts", 0) == 0


def test_a_skipped_invoice_never_syncs_and_unskip_lets_it(local):
    rt = local.runtime()
    execute_run(rt, build_run(rt, "contacts", None, False), run_contacts)
    numbers = {str(i["id"]): i["invoiceNumber"] for i in local.sandbox.autotask.state("Invoices")
               if not i.get("webServiceDate") and not i.get("isVoided")}
    skipped_id = sorted(numbers, key=int)[-1]
    rt.state.attention.skip("invoices", skipped_id, "entered in Xero by hand", "ann")
    summary = execute_run(rt, build_run(rt, "invoices", None, False), run_invoices)
    in_xero = {i.get("InvoiceNumber") for i in local.sandbox.xero.state("Invoices")}
    assert summary["skipped_by_person"] == 1 and summary["created"] > 0
    assert numbers[skipped_id] not in in_xero
    assert rt.state.ids.get("invoice", skipped_id) is None
    assert not local.sandbox.autotask.record("Invoices", int(skipped_id)).get("webServiceDate")

    rt.state.attention.unskip("invoices", skipped_id, "ann")
    execute_run(rt, build_run(rt, "invoices", None, False), run_invoices)
    assert numbers[skipped_id] in {i.get("InvoiceNumber") for i in local.sandbox.xero.state("Invoices")}


def test_a_skipped_company_gets_no_contact(local):
    rt = local.runtime()
    existing = {c["Name"] for c in local.sandbox.xero.state("Contacts")}
    company = next(c for c in local.sandbox.autotask.state("Companies")
                   if c.get("isActive") and c.get("companyType") == 1 and c["companyName"] not in existing)
    rt.state.attention.skip("contacts", company["id"], "not a customer of ours", "ann")
    execute_run(rt, build_run(rt, "contacts", None, False), run_contacts)
    assert company["companyName"] not in {c["Name"] for c in local.sandbox.xero.state("Contacts")}
    assert rt.state.ids.get("contact", company["id"]) is None


def test_without_a_start_date_the_invoices_flow_sends_nothing_and_says_why(local):
    rt = local.runtime()
    rt.state.settings.save(SyncSettings(), rt.state.settings.load()[1])
    rt = local.runtime()
    execute_run(rt, build_run(rt, "contacts", None, False), run_contacts)
    before = len(local.sandbox.xero.state("Invoices"))
    summary = execute_run(rt, build_run(rt, "invoices", None, False), run_invoices)
    assert summary["stopped"] == START_DATE_UNSET
    assert len(local.sandbox.xero.state("Invoices")) == before


def test_the_start_date_has_no_silent_default():
    assert SyncSettings().invoices.start_date is None
    with pytest.raises(ValueError, match="start_date"):
        SyncSettings.model_validate({"invoices": {"start_date": "not a date"}})
