"""The demo path end to end (what `make demo` runs): every flow through its Lambda handler, real OAuth,
webhooks over HTTP, then a clean reconciliation whose counts are checked against the fixture itself."""

from __future__ import annotations

import pytest
from rich.console import Console

from autoxero_cli.demo import Demo
from sandbox.server import load_fixture

pytestmark = pytest.mark.e2e

BLOCKED = {"Pohutukawa Dental", "Old Mate Plumbing Ltd"}  # the fixture's deliberate contact conflicts


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's result, and the simulators' own state it left: Xero's customer invoices and Autotask's
    invoices, read before the world is torn down."""
    import os

    os.environ.pop("AWS_ENDPOINT_URL", None)
    run = Demo(Console(quiet=True), out=tmp_path_factory.mktemp("out"))
    with run.world() as world:
        xero = [i for i in world.sandbox.xero.state("Invoices") if i["Type"] == "ACCREC"]
        autotask = world.sandbox.autotask.state("Invoices")
    return run.result, xero, autotask


@pytest.fixture(scope="module")
def outcome(demo):
    return demo[0]


def test_demo_reconciles(outcome):
    rec = outcome.reconciliation
    assert rec is not None and rec.ok, [(r.number, r.issue, r.note) for r in rec.problems]
    assert outcome.report.exists() and outcome.report.with_suffix(".html").exists()
    assert "Reconciled" in outcome.report.read_text()


def test_counts_match_the_fixture(outcome):
    data = load_fixture()["autotask"]
    companies = {c["id"]: c for c in data["Companies"]}
    customer_or_vendor = [c for c in companies.values() if c.get("isActive", True) and c["companyType"] in (1, 7)]
    contacts = outcome.summaries["contacts"]
    assert contacts["created"] + contacts["updated"] == len(customer_or_vendor) - len(BLOCKED)
    assert contacts["attention"] == len(BLOCKED)

    candidates = [i for i in data["Invoices"] if not i.get("isVoided") and not i.get("webServiceDate")]
    blocked = [i for i in candidates if companies[i["companyID"]]["companyName"] in BLOCKED]
    invoices = outcome.summaries["invoices"]
    assert invoices["created"] == len(candidates) - len(blocked)
    # An inactive company still being invoiced gets its contact from the invoices flow.
    inactive_invoiced = {i["companyID"] for i in candidates if not companies[i["companyID"]].get("isActive", True)}
    assert invoices.get("contacts_created", 0) == len(inactive_invoiced)
    assert outcome.reconciliation.matched == invoices["created"]
    assert len(outcome.reconciliation.explained) == len(blocked)


def test_payments_came_back_through_the_poll(demo):
    # Customers pay after the invoices' own webhooks were delivered, and Xero documents no event for a payment
    # (the simulator sends none): the scheduled poll must bring them back. Truth is the simulators' state:
    # every invoice PAID in Xero is paid in Autotask on its payment date, and no other one is.
    outcome, xero, autotask = demo
    paid_in_xero = {i["InvoiceNumber"] for i in xero if i["Status"] == "PAID"}
    in_xero = {i["InvoiceNumber"] for i in xero}
    paid_in_autotask = {i["invoiceNumber"]: str(i["paidDate"])[:10] for i in autotask
                        if i.get("paidDate") and i["invoiceNumber"] in in_xero}
    assert paid_in_xero, "the demo paid nothing in full"
    assert paid_in_autotask == dict.fromkeys(paid_in_xero, "2026-11-20")
    payments = outcome.summaries["payments"]
    assert payments["paid"] == outcome.paid_by_poll == len(paid_in_xero)
    assert len(paid_in_xero) < outcome.payments_applied  # the part payments and the removed one are not paid
    assert payments["messages"] >= outcome.summaries["invoices"]["created"]  # the invoices' own events
