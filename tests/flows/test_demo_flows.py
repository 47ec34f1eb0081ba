"""Every flow on the demo fixture, through the flow registry, judged by the simulators' own state."""

from __future__ import annotations

import pytest

from autoxero.sync.build import build_run, execute_run
from autoxero.sync.flows import FLOWS
from autoxero_cli.aws_calls import acting_as, flow_function
from autoxero_cli.localenv import LOCAL_STACK_NAME
from tests.flows.test_purchase_orders_and_payments import xero_api


@pytest.fixture
def local(module_local):
    """One deployment for both tests: the second continues from the first's runs (it runs them again, idle when
    the first has run) rather than syncing the demo's contacts and invoices a second time."""
    return module_local


@pytest.fixture
def runtime(module_local):
    return module_local.runtime()


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


def test_purchase_orders_become_one_bill_each_and_payments_mark_only_the_fully_paid_invoice(runtime, sandbox, local):
    run(runtime, "contacts")
    run(runtime, "invoices")
    before = set(documents(sandbox))
    orders = run(runtime, "purchase_orders")
    bills = [d for x, d in documents(sandbox).items() if x not in before and d.get("Type") == "ACCPAY"]
    assert len(bills) == orders["created"] > 0
    numbers = {o["purchaseOrderNumber"] for o in sandbox.autotask.state("PurchaseOrders")}
    assert {b["InvoiceNumber"] for b in bills} <= numbers and len({b["InvoiceNumber"] for b in bills}) == len(bills)

    # Finance approves two of the drafts in Xero and pays one in full, the other in part.
    full, part = [i for i in sandbox.xero.state("Invoices") if i["Type"] == "ACCREC" and i["Total"] > 0][:2]
    with xero_api(local) as api:
        for invoice in (full, part):
            approved = api.post(f"/Invoices/{invoice['InvoiceID']}", json={"Invoices": [{"Status": "AUTHORISED"}]})
            assert approved.status_code == 200, approved.text
        for invoice, amount in ((full, float(full["Total"])), (part, float(part["Total"]) / 2)):
            paid = api.put("/Payments", json={"Payments": [{"Invoice": {"InvoiceID": invoice["InvoiceID"]},
                                                            "Account": {"Code": "090"}, "Date": "2026-11-20",
                                                            "Amount": amount}]})
            assert paid.status_code == 200, paid.text
    paid_before = {i["id"]: i.get("paidDate") for i in sandbox.autotask.state("Invoices")}
    payments = run(runtime, "payments")
    paid_after = {i["id"]: i.get("paidDate") for i in sandbox.autotask.state("Invoices")}
    changed = {i["invoiceNumber"]: paid_after[i["id"]] for i in sandbox.autotask.state("Invoices")
               if paid_after[i["id"]] != paid_before[i["id"]]}
    assert list(changed) == [full["InvoiceNumber"]]  # not the part-paid one, nor any other
    assert str(changed[full["InvoiceNumber"]]).startswith("2026-11-20")
    assert payments["paid"] == 1

