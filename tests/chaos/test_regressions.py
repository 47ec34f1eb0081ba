"""Defects the chaos scenario (bench/chaos.py) found, each reduced to a deterministic reproduction.

All are fixed and stay as regression tests. A defect found later and not yet fixed goes here marked
xfail(strict=True): it documents the defect without failing `make test`, and once the product is fixed it
XPASSes, which fails the run so that the marker is removed. None of this weakens a chaos check: `make chaos`
still counts whatever happens.
"""

from __future__ import annotations

import pytest

from autoxero.autotask.client import AutotaskClient
from autoxero.autotask.errors import AutotaskError
from autoxero.state.idmap import IdMap
from autoxero.sync.contacts import run_contacts
from autoxero.sync.invoices import run_invoices
from autoxero.sync.payments import run_payments
from autoxero.sync.purchase_orders import run_purchase_orders
from bench import chaos
from sandbox.fixtures.builder import STANDARD, SUPPORT, Tenant


@pytest.fixture
def harness():
    data = Tenant().company(1, "Paid Early Ltd").invoice(10, 1, "PE-1", [(1, 100, STANDARD, SUPPORT)])
    h = chaos.Harness(data, chaos.SETTINGS, 0)
    yield h
    h.close()


def die(*args, **kwargs):
    raise chaos.CrashInjected("the Lambda died here")


def created_then_died_then_paid(h, monkeypatch) -> None:
    """PE-1 is created in Xero, the run dies before the id map records it, the customer pays it in full, and
    the payments poll passes it (unmapped) and moves its cursor beyond that change."""
    h.run("contacts", run_contacts)
    with monkeypatch.context() as patch:
        patch.setattr(IdMap, "record_many", die)
        with pytest.raises(chaos.CrashInjected):
            h.run("invoices", run_invoices)
    assert h.rt.state.ids.get("invoice", 10).status == "pending"
    payer = chaos.Payer(h, 0, set())
    payer.rng.random = lambda: 0.0  # pay everything in full
    payer.apply()
    h.run("payments", run_payments)


def paid_in_autotask(h) -> bool:
    [invoice] = [i for i in h.sandbox.xero.state("Invoices") if i["InvoiceNumber"] == "PE-1"]
    assert invoice["Status"] == "PAID"
    return h.sandbox.autotask.record("Invoices", 10).get("paidDate") is not None


def test_a_payment_made_while_the_invoice_was_unmapped_reaches_autotask_once_it_is_recovered(harness, monkeypatch):
    h = harness
    created_then_died_then_paid(h, monkeypatch)
    assert h.run("invoices", run_invoices).get("recovered") == 1
    h.run("payments", run_payments)
    assert paid_in_autotask(h)


def test_a_run_that_dies_between_the_recovery_and_the_paid_date_still_gets_the_payment_to_autotask(
        harness, monkeypatch):
    h = harness
    created_then_died_then_paid(h, monkeypatch)
    with monkeypatch.context() as patch:
        patch.setattr(AutotaskClient, "patch", die)  # the recovery's paidDate write is the run's first PATCH
        with pytest.raises(chaos.CrashInjected):
            h.run("invoices", run_invoices)
    assert h.rt.state.ids.get("invoice", 10).status == "synced"
    h.run("invoices", run_invoices)
    h.run("payments", run_payments)
    assert h.sandbox.autotask.record("Invoices", 10).get("webServiceDate")
    assert paid_in_autotask(h)


def test_a_stamp_refused_once_leaves_no_attention_item_once_it_is_stamped(harness):
    h = harness
    h.sandbox.autotask.faults.configure([{"kind": "status", "status": 500, "method": "PATCH",
                                          "path": "*/Invoices", "nth": 1}])
    h.run("contacts", run_contacts)
    h.run("invoices", run_invoices)
    assert {i.code for i in h.rt.state.attention.list("invoices")} == {"stamp_failed"}
    h.run("invoices", run_invoices)
    assert h.sandbox.autotask.record("Invoices", 10).get("webServiceDate")
    assert h.rt.state.attention.list("invoices") == []


def test_one_failed_picklist_read_does_not_hold_purchase_orders_back():
    data = Tenant().company(90, "Vendor Ltd", companyType=7)
    data.at["PurchaseOrders"].append({"id": 300, "vendorID": 90, "status": 2, "purchaseOrderNumber": "PO-300",
                                      "createDateTime": chaos._recent(), "submitDateTime": chaos._recent()})
    data.at["PurchaseOrderItems"].append({"id": 301, "orderID": 300, "quantity": 1, "unitCost": 10.0})
    h = chaos.Harness(data, chaos.SETTINGS, 0)
    try:
        h.sandbox.autotask.faults.configure([{"kind": "status", "status": 500, "method": "GET",
                                              "path": "*/PurchaseOrders/entityInformation/fields", "nth": 1}])
        with pytest.raises(AutotaskError):  # one transient error fails the run (and its alarm), caching nothing
            h.run("purchase_orders", run_purchase_orders)
        h.run("purchase_orders", run_purchase_orders)  # the next scheduled run, with Autotask healthy again
        assert [i["InvoiceNumber"] for i in h.sandbox.xero.state("Invoices") if i["Type"] == "ACCPAY"] == ["PO-300"]
    finally:
        h.close()


def test_a_stamp_applied_by_a_run_that_then_died_leaves_no_attention_item(harness, monkeypatch):
    h = harness
    h.sandbox.autotask.faults.configure([{"kind": "status", "status": 500, "method": "PATCH",
                                          "path": "*/Invoices", "nth": 1}])
    h.run("contacts", run_contacts)
    h.run("invoices", run_invoices)
    assert {i.code for i in h.rt.state.attention.list("invoices")} == {"stamp_failed"}
    original = AutotaskClient.patch

    def patch_then_die(self, *args, **kwargs):
        original(self, *args, **kwargs)
        raise chaos.CrashInjected("died after Autotask's answer")

    with monkeypatch.context() as patch:
        patch.setattr(AutotaskClient, "patch", patch_then_die)
        with pytest.raises(chaos.CrashInjected):
            h.run("invoices", run_invoices)
    h.run("invoices", run_invoices)
    assert h.sandbox.autotask.record("Invoices", 10).get("webServiceDate")
    assert h.rt.state.attention.list("invoices") == []
