"""Shapes a live tenant answers with, each from a recorded or generated public source (see the sandbox README)."""

from __future__ import annotations

import httpx
import pytest

from sandbox.autotask.testing import RunningAutotask, running_autotask, small_tenant


@pytest.fixture(scope="module")
def at():
    with running_autotask(small_tenant()) as running:
        yield running


@pytest.fixture
def client(at: RunningAutotask):
    with at.client() as c:
        yield c


def fields(client: httpx.Client, entity: str) -> dict[str, dict]:
    return {f["name"]: f for f in client.get(f"/{entity}/entityInformation/fields").json()["fields"]}


def test_reference_entity_types_are_singular(client: httpx.Client):
    """apigrate/autotask-restapi README, a recorded fieldInfo answer: "Resource", "Company", "Contact"."""
    assert fields(client, "Companies")["ownerResourceID"]["referenceEntityType"] == "Resource"
    assert fields(client, "Contacts")["companyID"]["referenceEntityType"] == "Company"
    assert fields(client, "Invoices")["paymentTerm"]["referenceEntityType"] == "PaymentTerm"
    assert fields(client, "Companies")["phone"]["referenceEntityType"] == ""


def test_invoice_and_billing_item_fields_as_a_live_tenant_has_them(client: httpx.Client):
    """tphakala/go-autotask entities/invoices.go and billing_items.go (generated from a live tenant)."""
    invoice = fields(client, "Invoices")
    assert invoice["invoiceStatus"]["dataType"] == "integer"
    assert invoice["invoiceTaxMethodExternalCode"]["dataType"] == "string"
    assert fields(client, "BillingItems")["nonBillable"]["dataType"] == "integer"
    assert "invoiceStatus" in client.get("/Invoices/3001").json()["item"]


def test_the_root_company_is_there(client: httpx.Client):
    assert client.get("/Companies/0").json()["item"]["id"] == 0


def test_include_fields_may_name_a_udf(client: httpx.Client):
    r = client.post("/Companies/query", json={"filter": [{"op": "eq", "field": "id", "value": 1001}],
                                              "IncludeFields": ["companyName", "Billing Contact"]})
    assert r.status_code == 200, r.text
    [item] = r.json()["items"]
    assert item["userDefinedFields"] == [{"name": "Billing Contact", "value": "Mere Tane"}]
    assert set(item) == {"companyName", "userDefinedFields"} | ({"id"} if "id" in item else set())


def test_an_unhandled_fault_is_not_an_autotask_refusal(at: RunningAutotask, client: httpx.Client, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("simulated server bug")

    monkeypatch.setattr(at.sim, "api_get", boom)
    r = client.get("/Companies/1001")
    assert r.status_code == 500 and r.json() == {"Message": "An error has occurred."}
