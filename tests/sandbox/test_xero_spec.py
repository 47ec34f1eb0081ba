"""What the simulator sends validates against Xero's official OpenAPI documents (and what the tests send
validates as requests)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from dateutil.parser import isoparse
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from sandbox.fixtures.xero_demo import demo_id
from sandbox.xero.testing import XeroSandbox, find_spec

XERO = "https://api.xero.com"


def _iso(value: str) -> bool:
    # Xero's identity timestamps have no zone ("2019-12-07T18:46:19.5165400", the spec's own example), which
    # RFC 3339 date-time refuses; accept what the SDK's parser accepts.
    try:
        isoparse(value)
    except ValueError:
        return False
    return True


def _load(name: str) -> OpenAPI:
    # The published documents do not pass strict spec validation (e.g. `default: "false"` on booleans).
    path = find_spec(name)
    if path is None:
        pytest.fail(f"{name} not found: the specs are vendored in tests/contract/specs/ (or set XERO_SPECS_DIR)")
    config = Config(spec_validator_cls=None, extra_format_validators={"date-time": _iso})
    return OpenAPI.from_file_path(str(path), config=config)


@pytest.fixture(scope="module")
def accounting() -> OpenAPI:
    return _load("xero_accounting.yaml")


@pytest.fixture(scope="module")
def identity() -> OpenAPI:
    return _load("xero-identity.yaml")


@pytest.fixture(scope="module")
def populated() -> Iterator[tuple[XeroSandbox, dict[str, str]]]:
    """One organisation with every kind of document, built through the API."""
    with XeroSandbox.start() as xero:
        api = xero.client()
        kauri = demo_id("contact", "Kauri Accounting Ltd")
        supplier = demo_id("contact", "Dicker Data NZ")
        line = {"Description": "Managed services", "Quantity": 2, "UnitAmount": 150, "AccountCode": "210",
                "Tracking": [{"Name": "Region", "Option": "Auckland"}]}
        invoice = api.put("/api.xro/2.0/Invoices", json={"Invoices": [
            {"Type": "ACCREC", "Contact": {"ContactID": kauri}, "Status": "AUTHORISED", "InvoiceNumber": "AT-1",
             "DueDate": "2026-02-20", "Reference": "Contract 7", "LineItems": [line, {"ItemCode": "HW-LAP-14",
                                                                                       "Quantity": 1}],
             "BrandingThemeID": demo_id("branding", "Managed Services")},
            {"Type": "ACCPAY", "Contact": {"ContactID": supplier}, "InvoiceNumber": "DD-881",
             "LineItems": [{"Description": "Stock", "Quantity": 3, "UnitAmount": 99.5, "AccountCode": "310"}]},
        ]}).json()["Invoices"]
        invoice_id = invoice[0]["InvoiceID"]
        payment = api.put("/api.xro/2.0/Payments", json={"Payments": [
            {"Invoice": {"InvoiceID": invoice_id}, "Account": {"Code": "090"}, "Amount": 100,
             "Date": "2026-01-30"}]}).json()["Payments"][0]
        note = api.put("/api.xro/2.0/CreditNotes", json={"CreditNotes": [
            {"Type": "ACCRECCREDIT", "Contact": {"ContactID": kauri}, "Status": "AUTHORISED",
             "LineItems": [{"Description": "Credit", "Quantity": 1, "UnitAmount": 20, "AccountCode": "200"}]}]}
        ).json()["CreditNotes"][0]
        api.put(f"/api.xro/2.0/CreditNotes/{note['CreditNoteID']}/Allocations", json={"Allocations": [
            {"Invoice": {"InvoiceID": invoice_id}, "Amount": 10, "Date": "2026-01-31"}]})
        order = api.put("/api.xro/2.0/PurchaseOrders", json={"PurchaseOrders": [
            {"Contact": {"ContactID": supplier}, "DeliveryDate": "2026-02-01", "LineItems": [
                {"ItemCode": "HW-DOCK-USBC", "Quantity": 4}]}]}).json()["PurchaseOrders"][0]
        ids = {"invoice": invoice_id, "payment": payment["PaymentID"], "note": note["CreditNoteID"],
               "order": order["PurchaseOrderID"], "contact": kauri}
        yield xero, ids


def _validate_response(spec: OpenAPI, method: str, path: str, response: httpx.Response,
                       args: dict[str, Any] | None = None) -> None:
    request = MockRequest(XERO, method.lower(), path, args=args,
                          headers={"xero-tenant-id": "tenant", "Authorization": "Bearer x"})
    # Validate the bytes the simulator sent, decoded exactly as a client would.
    data = response.content
    spec.validate_response(request, MockResponse(data, status_code=response.status_code,
                                                 content_type="application/json"))


READS = [
    ("/api.xro/2.0/Invoices", None),
    ("/api.xro/2.0/Invoices", {"page": "1"}),
    ("/api.xro/2.0/Invoices", {"page": "1", "pageSize": "1", "unitdp": "4"}),
    ("/api.xro/2.0/Invoices/{invoice}", None),
    ("/api.xro/2.0/CreditNotes", {"page": "1"}),
    ("/api.xro/2.0/CreditNotes/{note}", None),
    ("/api.xro/2.0/Payments", None),
    ("/api.xro/2.0/Payments/{payment}", None),
    ("/api.xro/2.0/PurchaseOrders", None),
    ("/api.xro/2.0/PurchaseOrders/{order}", None),
    ("/api.xro/2.0/Contacts", {"includeArchived": "true"}),
    ("/api.xro/2.0/Contacts", {"page": "1", "pageSize": "2"}),
    ("/api.xro/2.0/Contacts/{contact}", None),
    ("/api.xro/2.0/Items", None),
    ("/api.xro/2.0/Accounts", None),
    ("/api.xro/2.0/TaxRates", None),
    ("/api.xro/2.0/TrackingCategories", None),
    ("/api.xro/2.0/BrandingThemes", None),
    ("/api.xro/2.0/Currencies", None),
    ("/api.xro/2.0/Organisation", None),
]


@pytest.mark.parametrize(("template", "query"), READS)
def test_read_responses_match_the_spec(populated: tuple[XeroSandbox, dict[str, str]], accounting: OpenAPI,
                                       template: str, query: dict[str, str] | None) -> None:
    xero, ids = populated
    path = template.format(**ids)
    response = xero.client().get(path, params=query)
    assert response.status_code == 200, response.text
    _validate_response(accounting, "get", path, response, query)


def test_write_responses_match_the_spec(populated: tuple[XeroSandbox, dict[str, str]], accounting: OpenAPI) -> None:
    xero, ids = populated
    api = xero.client()
    body = {"Contacts": [{"Name": "Spec Contact Ltd", "EmailAddress": "spec@example.com",
                          "Phones": [{"PhoneType": "MOBILE", "PhoneNumber": "021 555"}]},
                         {"Name": "Kauri Accounting Ltd"}]}
    request = MockRequest(XERO, "put", "/api.xro/2.0/Contacts", args={"summarizeErrors": "false"},
                          headers={"xero-tenant-id": "tenant", "Authorization": "Bearer x"},
                          data=json.dumps(body).encode())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # openapi-core cannot check OAuth2 security
        accounting.validate_request(request)
    mixed = api.put("/api.xro/2.0/Contacts", params={"summarizeErrors": "false"}, json=body)
    assert [c["StatusAttributeString"] for c in mixed.json()["Contacts"]] == ["OK", "ERROR"]
    _validate_response(accounting, "put", "/api.xro/2.0/Contacts", mixed, {"summarizeErrors": "false"})

    refused = api.put("/api.xro/2.0/Invoices", json={"Invoices": [
        {"Type": "ACCREC", "Contact": {"ContactID": ids["contact"]}, "InvoiceNumber": "AT-1",
         "LineItems": [{"Description": "dup", "Quantity": 1, "UnitAmount": 1, "AccountCode": "200"}]}]})
    assert refused.status_code == 400
    _validate_response(accounting, "put", "/api.xro/2.0/Invoices", refused)

    updated = api.post(f"/api.xro/2.0/PurchaseOrders/{ids['order']}", json={"PurchaseOrders": [
        {"Status": "AUTHORISED"}]})
    assert updated.status_code == 200, updated.text
    _validate_response(accounting, "post", f"/api.xro/2.0/PurchaseOrders/{ids['order']}", updated)

    item = api.post("/api.xro/2.0/Items", json={"Items": [{"Code": "SPEC-1", "Name": "Spec item",
                                                          "SalesDetails": {"UnitPrice": 5, "AccountCode": "200"}}]})
    _validate_response(accounting, "post", "/api.xro/2.0/Items", item)


def test_payment_and_allocation_writes_match_the_spec(populated: tuple[XeroSandbox, dict[str, str]],
                                                      accounting: OpenAPI) -> None:
    xero, ids = populated
    api = xero.client()
    paid = api.put("/api.xro/2.0/Payments", json={"Payments": [
        {"Invoice": {"InvoiceID": ids["invoice"]}, "Account": {"Code": "090"}, "Amount": 1}]})
    assert paid.status_code == 200, paid.text
    _validate_response(accounting, "put", "/api.xro/2.0/Payments", paid)
    path = f"/api.xro/2.0/Payments/{paid.json()['Payments'][0]['PaymentID']}"
    deleted = api.post(path, json={"Payments": [{"Status": "DELETED"}]})
    _validate_response(accounting, "post", path, deleted)
    path = f"/api.xro/2.0/CreditNotes/{ids['note']}/Allocations"
    allocated = api.put(path, json={"Allocations": [{"Invoice": {"InvoiceID": ids["invoice"]}, "Amount": 1,
                                                     "Date": "2026-02-01"}]})
    assert allocated.status_code == 200, allocated.text
    _validate_response(accounting, "put", path, allocated)


def test_spec_validation_can_fail(accounting: OpenAPI) -> None:
    """Guard: a body the spec forbids is refused, so the checks above mean something."""
    bogus = httpx.Response(200, json={"Invoices": [{"InvoiceID": "not-a-uuid", "Status": "SETTLED"}]})
    with pytest.raises(Exception, match="not valid for schema"):
        _validate_response(accounting, "get", "/api.xro/2.0/Invoices", bogus)


@pytest.mark.parametrize("path", ["/connections", "/Connections"])
def test_connections_match_the_identity_spec(populated: tuple[XeroSandbox, dict[str, str]], identity: OpenAPI,
                                             path: str) -> None:
    xero, _ = populated
    response = xero.client(tenant=None).get(path)
    assert response.status_code == 200
    request = MockRequest(XERO, "get", "/Connections", headers={"Authorization": "Bearer x"})
    identity.validate_response(request, MockResponse(response.content, content_type="application/json"))
