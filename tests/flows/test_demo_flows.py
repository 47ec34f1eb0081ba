"""Contacts and invoices end to end on the demo fixture, through the flow entry points."""

from __future__ import annotations

from autoxero.sync.build import build_run, execute_run
from autoxero.sync.contacts import run_contacts
from autoxero.sync.invoices import run_invoices
from autoxero_cli.aws_calls import acting_as, flow_function
from autoxero_cli.localenv import LOCAL_STACK_NAME


def run(runtime, flow, body, dry_run=False):
    with acting_as(LOCAL_STACK_NAME, flow_function(flow)):  # its calls are that flow's function's
        return execute_run(runtime, build_run(runtime, flow, None, dry_run), body)


def test_contacts_then_invoices(runtime, sandbox):
    contacts = run(runtime, "contacts", run_contacts)
    print(contacts)
    invoices = run(runtime, "invoices", run_invoices)
    print(invoices)
    for item in runtime.state.attention.list():
        print(item.flow, item.record_id, item.code, item.message)
    assert invoices["created"] > 100
    xero_invoices = sandbox.xero.state("Invoices")
    assert len(xero_invoices) >= invoices["created"] - 10


def test_purchase_orders_and_payments(runtime, sandbox):
    from autoxero.sync.payments import run_payments
    from autoxero.sync.purchase_orders import run_purchase_orders

    run(runtime, "contacts", run_contacts)
    run(runtime, "invoices", run_invoices)
    pos = run(runtime, "purchase_orders", run_purchase_orders)
    print(pos)
    bills = [i for i in sandbox.xero.state("Invoices") if i["Type"] == "ACCPAY"]
    print(len(bills))
    pay = run(runtime, "payments", run_payments)
    print(pay)
    for item in runtime.state.attention.list("purchase_orders"):
        print(item.flow, item.record_id, item.code, item.message)
