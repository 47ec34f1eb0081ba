"""Every flow on the demo fixture, through the flow registry, judged by the simulators' own state."""

from __future__ import annotations

from autoxero.sync.build import build_run, execute_run
from autoxero.sync.flows import FLOWS
from autoxero_cli.aws_calls import acting_as, flow_function
from autoxero_cli.localenv import LOCAL_STACK_NAME


def run(runtime, flow, dry_run=False):
    with acting_as(LOCAL_STACK_NAME, flow_function(flow)):  # its calls are that flow's function's
        return execute_run(runtime, build_run(runtime, flow, None, dry_run), FLOWS[flow].run)


def documents(sandbox) -> dict[str, dict]:
    """Xero's invoices (both types) and credit notes, by id."""
    found = {i["InvoiceID"]: i for i in sandbox.xero.state("Invoices")}
    found.update({n["CreditNoteID"]: {**n, "InvoiceNumber": n["CreditNoteNumber"]}
                  for n in sandbox.xero.state("CreditNotes")})
    return found


def test_every_document_the_invoices_run_created_is_counted_and_its_autotask_invoice_stamped(runtime, sandbox):
    before = set(documents(sandbox))
    run(runtime, "contacts")
    invoices = run(runtime, "invoices")
    created = [d for x, d in documents(sandbox).items() if x not in before and d["Type"] in ("ACCREC", "ACCRECCREDIT")]
    assert len(created) == invoices["created"] > 100
    stamped = {i["invoiceNumber"] for i in sandbox.autotask.state("Invoices") if i.get("webServiceDate")}
    assert {d["InvoiceNumber"] for d in created} <= stamped
    assert len({d["InvoiceNumber"] for d in created}) == len(created)  # no number twice


def test_purchase_orders_become_one_bill_each_and_payments_change_nothing_unpaid(runtime, sandbox):
    run(runtime, "contacts")
    run(runtime, "invoices")
    before = set(documents(sandbox))
    orders = run(runtime, "purchase_orders")
    bills = [d for x, d in documents(sandbox).items() if x not in before and d.get("Type") == "ACCPAY"]
    assert len(bills) == orders["created"] > 0
    numbers = {o["purchaseOrderNumber"] for o in sandbox.autotask.state("PurchaseOrders")}
    assert {b["InvoiceNumber"] for b in bills} <= numbers and len({b["InvoiceNumber"] for b in bills}) == len(bills)
    paid_before = {i["id"]: i.get("paidDate") for i in sandbox.autotask.state("Invoices")}
    payments = run(runtime, "payments")
    assert payments.get("paid", 0) == 0  # nothing was paid in Xero yet
    assert {i["id"]: i.get("paidDate") for i in sandbox.autotask.state("Invoices")} == paid_before
