"""Purchase orders: when one is sent (mapping/purchase_orders.py::stage) and what it becomes in Xero, a bill
or a purchase order (`target`, `map_purchase_order`), with its accounts and due date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from autoxero.autotask import models as at
from autoxero.mapping.common import Unmappable
from autoxero.mapping.purchase_orders import map_purchase_order, stage, target
from autoxero.mapping.reference import AutotaskReference
from autoxero.settings import PurchaseOrderSettings

STAGES = [
    pytest.param("Submitted", "Submitted", "ready", id="at the trigger status"),
    pytest.param("New", "Submitted", "before_trigger", id="before the trigger status"),
    pytest.param("Received Partial", "Submitted", "ready", id="past the trigger: partly received"),
    pytest.param("Received Full", "Submitted", "ready", id="past the trigger: fully received"),
    pytest.param("Submitted", "Received Full", "before_trigger", id="trigger on full receipt: submitted waits"),
    pytest.param(" submitted ", "Submitted", "ready", id="capitals and spaces do not count"),
    pytest.param("Cancel", "Submitted", "cancelled", id="cancelled"),
    pytest.param("Cancelled", "New", "cancelled", id="cancelled, whatever the trigger"),
    pytest.param("Approved", "Approved", "ready", id="a tenant's own status equal to the trigger"),
    pytest.param("Approved", "Submitted", "before_trigger", id="a tenant's own status not the trigger"),
    pytest.param(None, "Submitted", "before_trigger", id="no status label"),
]


@pytest.mark.parametrize(("label", "trigger", "expected"), STAGES)
def test_stage(label, trigger, expected):
    assert stage(label, PurchaseOrderSettings(trigger_status=trigger)) == expected


REFERENCE = AutotaskReference(
    products={1: at.Product(id=1, name="Firewall", sku="FW-100", productBillingCodeID=20),
              2: at.Product(id=2, name="Cable", productBillingCodeID=21)},
    payment_terms={1: at.PaymentTerm(id=1, name="Net 20", paymentDueInDays=20)})
SUBMITTED = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def order(**fields: Any) -> at.PurchaseOrder:
    return at.PurchaseOrder.model_validate({"id": 3, "vendorID": 9, "status": 2, "purchaseOrderNumber": "PO-3",
                                            "submitDateTime": SUBMITTED, **fields})


def items(*products: int | None) -> list[at.PurchaseOrderItem]:
    return [at.PurchaseOrderItem(id=n, orderID=3, productID=p, quantity=Decimal(2), unitCost=Decimal("10.5"),
                                 memo="memo") for n, p in enumerate(products, start=1)]


# target, the order's fields -> what the payload carries
TARGETS = [
    pytest.param("bill", {}, {"Type": "ACCPAY", "InvoiceNumber": "PO-3", "DueDate": "2026-11-02"},
                 id="bill: an ACCPAY invoice numbered as the PO, due on issue without a term"),
    pytest.param("bill", {"paymentTerm": 1}, {"DueDate": "2026-11-22"}, id="bill: due after the term's days"),
    pytest.param("purchase_order", {"externalPONumber": "EXT-1", "latestEstimatedArrivalDate": "2026-11-20"},
                 {"PurchaseOrderNumber": "PO-3", "Reference": "EXT-1", "DeliveryDate": "2026-11-20"},
                 id="purchase order: numbered as the PO, reference and delivery date"),
    pytest.param("bill", {"purchaseOrderNumber": " "}, {"InvoiceNumber": "PO3"}, id="no PO number: PO + its id"),
]


@pytest.mark.parametrize(("name", "fields", "carried"), TARGETS)
def test_target(xero, name, fields, carried):
    settings = PurchaseOrderSettings(target=name)
    plan = map_purchase_order(order(**fields), items(1), "vendor-1", ref=REFERENCE, xero=xero, settings=settings)
    assert plan.target == target(settings).name == name
    assert {k: plan.payload.get(k) for k in carried} == carried
    assert ("Type" in plan.payload) == (name == "bill")
    assert target(settings).number_field in plan.payload


ACCOUNTS = [
    pytest.param({}, [1, 2, None], ["300", "300", "300"], id="every line on the default account 300"),
    pytest.param({"account_by_billing_code": {"20": "425"}}, [1, 2], ["425", "300"],
                 id="a product's billing code mapped; the other on the default"),
    pytest.param({"default_account_code": "425"}, [None], ["425"], id="a line without product: the default"),
]


@pytest.mark.parametrize(("settings", "products", "accounts"), ACCOUNTS)
def test_purchase_order_accounts(xero, settings, products, accounts):
    plan = map_purchase_order(order(), items(*products), "vendor-1", ref=REFERENCE, xero=xero,
                              settings=PurchaseOrderSettings(**settings))
    assert [line["AccountCode"] for line in plan.payload["LineItems"]] == accounts


def test_freight_goes_on_its_own_line_and_account(xero):
    plan = map_purchase_order(order(freight=Decimal("12.34")), items(1), "vendor-1", ref=REFERENCE, xero=xero,
                              settings=PurchaseOrderSettings())
    assert plan.payload["LineItems"][-1] == {"Description": "Freight", "Quantity": Decimal(1),
                                                  "UnitAmount": Decimal("12.3400"), "AccountCode": "425"}
    assert plan.total == Decimal("33.34")


# Xero keeps a bill's unit amounts to 4 places (written with unitdp=4) and a purchase order's to 2 (no unitdp there)
UNIT_AMOUNTS = [
    pytest.param("bill", ["4.9565", "25.0000"], Decimal("39.87"), id="bill: 4 places, 3 x 4.9565 = 14.8695 -> 14.87"),
    pytest.param("purchase_order", ["4.96", "25.00"], Decimal("39.88"), id="purchase order: 2 places, 3 x 4.96"),
]


@pytest.mark.parametrize(("name", "units", "total"), UNIT_AMOUNTS)
def test_unit_amounts_are_sent_as_xero_keeps_them_and_totalled_so(xero, name, units, total):
    cables = [at.PurchaseOrderItem(id=1, orderID=3, productID=2, quantity=Decimal(3), unitCost=Decimal("4.9565"))]
    plan = map_purchase_order(order(freight=Decimal("25")), cables, "vendor-1", ref=REFERENCE, xero=xero,
                              settings=PurchaseOrderSettings(target=name))
    assert [str(line["UnitAmount"]) for line in plan.payload["LineItems"]] == units
    assert plan.total == total


REFUSED = [
    pytest.param({"default_account_code": "250"}, {}, "unknown_account", id="an archived default account"),
    pytest.param({"freight_account_code": "999"}, {"freight": "5"}, "unknown_account", id="unknown freight account"),
    pytest.param({"tax_type": "OLDOUTPUT"}, {}, "unknown_tax_type", id="a deleted tax rate"),
]


@pytest.mark.parametrize(("settings", "fields", "code"), REFUSED)
def test_purchase_order_refused(xero, settings, fields, code):
    with pytest.raises(Unmappable) as refused:
        map_purchase_order(order(**fields), items(None), "vendor-1", ref=REFERENCE, xero=xero,
                           settings=PurchaseOrderSettings(**settings))
    assert refused.value.problem.code == code
