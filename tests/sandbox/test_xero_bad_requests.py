"""Bad requests never crash the simulator: malformed JSON and wrong types are Xero's 400s (nothing written),
unknown routes are 404s, and the control API works (faults, clock, state)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.fixtures.xero_demo import demo_id, xero_demo
from sandbox.xero.testing import XeroSandbox

INVOICES = "/api.xro/2.0/Invoices"
KAURI = demo_id("contact", "Kauri Accounting Ltd")


@pytest.fixture(scope="module")
def server() -> Iterator[XeroSandbox]:
    with XeroSandbox.start() as sandbox:
        yield sandbox


@pytest.fixture
def xero(server: XeroSandbox) -> Iterator[XeroSandbox]:
    server.reset()
    server.sim.set_limits(minute=100_000, day=1_000_000)
    yield server
    assert server.sim.errors == []  # no request made the simulator fail internally


@pytest.fixture
def api(xero: XeroSandbox) -> httpx.Client:
    return xero.client()


def _post_data_invalid(response: httpx.Response) -> str:
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["ErrorNumber"], body["Type"]) == (14, "PostDataInvalidException")
    return str(body["Message"])


@pytest.mark.parametrize("body", [b"{not json", b'{"Invoices": [', b"\xff\xfe", b"[1, 2"])
def test_malformed_json(api: httpx.Client, body: bytes) -> None:
    message = _post_data_invalid(api.put(INVOICES, content=body, headers={"Content-Type": "application/json"}))
    assert message.startswith("JSON for post data was invalid")


def test_empty_body(api: httpx.Client) -> None:
    assert _post_data_invalid(api.put(INVOICES, content=b"")).startswith("The request body is empty")


@pytest.mark.parametrize(("element", "path"), [
    ({"Type": "ACCREC", "LineItems": [{"Quantity": "lots"}]}, "Invoices[1].LineItems[0].Quantity"),
    ({"Type": "ACCREC", "LineItems": {"Description": "not a list"}}, "Invoices[1].LineItems"),
    ({"Type": "ACCREC", "Date": "31/01/2026"}, "Invoices[1].Date"),
    ({"Type": "INVOICE"}, "Invoices[1].Type"),
    ({"Type": "ACCREC", "Contact": {"ContactID": "kauri"}}, "Invoices[1].Contact.ContactID"),
    ({"Type": "ACCREC", "LineAmountTypes": "Gross"}, "Invoices[1].LineAmountTypes"),
    ({"Type": "ACCREC", "SentToContact": "maybe"}, "Invoices[1].SentToContact"),
    ({"Type": "ACCREC", "Contact": ["not", "an", "object"]}, "Invoices[1].Contact"),
])
def test_wrong_types_fail_the_whole_request(api: httpx.Client, xero: XeroSandbox, element: dict[str, Any],
                                            path: str) -> None:
    good = {"Type": "ACCREC", "Contact": {"ContactID": KAURI}, "InvoiceNumber": "OK-1",
            "LineItems": [{"Description": "x", "Quantity": 1, "UnitAmount": 1, "AccountCode": "200"}]}
    message = _post_data_invalid(api.put(INVOICES, json={"Invoices": [good, element]}))
    assert message.endswith(f"Path '{path}'.")
    assert xero.sim.state("Invoices") == []  # nothing of the batch was written


def test_root_must_be_an_object(api: httpx.Client) -> None:
    assert "Cannot deserialize" in _post_data_invalid(api.put(INVOICES, json=[{"Type": "ACCREC"}]))


def test_a_bare_element_is_accepted(api: httpx.Client) -> None:
    response = api.put(INVOICES, json={"Type": "ACCREC", "Contact": {"ContactID": KAURI},
                                       "LineItems": [{"Description": "x", "Quantity": 1, "UnitAmount": 1,
                                                      "AccountCode": "200"}]})
    assert response.status_code == 200 and len(response.json()["Invoices"]) == 1


def test_numbers_as_strings_and_case_insensitive_names_are_accepted(api: httpx.Client) -> None:
    response = api.put(INVOICES, json={"invoices": [{"type": "accrec", "contact": {"contactID": KAURI},
                                                     "lineItems": [{"description": "x", "quantity": "2",
                                                                    "unitAmount": "10.5", "accountCode": 200}]}]})
    assert response.status_code == 200, response.text
    assert response.json()["Invoices"][0]["SubTotal"] == 21.00


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api.xro/2.0/Widgets"), ("PUT", "/api.xro/2.0/Widgets"), ("GET", "/nothing"),
    ("GET", "/api.xro/2.0/Invoices/00000000-0000-0000-0000-000000000000"),
    ("POST", "/api.xro/2.0/Invoices/00000000-0000-0000-0000-000000000000"),
    ("GET", "/api.xro/2.0/Items/NO-SUCH-ITEM"),
    ("DELETE", "/api.xro/2.0/CreditNotes/00000000-0000-0000-0000-000000000000/Allocations/"
               "00000000-0000-0000-0000-000000000000"),
])
def test_unknown_routes_and_records_are_404(api: httpx.Client, method: str, path: str) -> None:
    assert api.request(method, path, json={"Invoices": [{}]}).status_code == 404


def test_paths_are_case_insensitive(api: httpx.Client, xero: XeroSandbox) -> None:
    assert api.get("/api.xro/2.0/invoices").status_code == 200
    assert api.get("/API.XRO/2.0/contacts", params={"WHERE": 'Name=="Kauri Accounting Ltd"'}).json()[
        "Contacts"][0]["Name"] == "Kauri Accounting Ltd"
    assert xero.sim.calls.snapshot()["calls"]["GET /api.xro/2.0/Invoices"] == 1


def test_bad_query_parameters(api: httpx.Client) -> None:
    assert api.get(INVOICES, params={"page": "two"}).status_code == 400
    assert api.get(INVOICES, headers={"If-Modified-Since": "last tuesday"}).status_code == 400
    assert api.get(INVOICES, params={"order": "Colour ASC"}).json()["Type"] == "QueryParseException"


def test_every_call_is_logged_with_its_route_template(api: httpx.Client, xero: XeroSandbox) -> None:
    api.get(f"{INVOICES}/{KAURI}")
    api.get(f"/api.xro/2.0/Contacts/{KAURI}")
    api.get("/connections")
    calls = xero.control().get("/_sandbox/calls").json()
    assert calls["calls"]["GET /api.xro/2.0/Invoices/{InvoiceID}"] == 1
    assert calls["calls"]["GET /api.xro/2.0/Contacts/{ContactID}"] == 1
    assert calls["calls"]["GET /connections"] == 1
    xero.control().post("/_sandbox/calls/reset")
    assert xero.control().get("/_sandbox/calls").json() == {"total": 0, "calls": {}}


def test_faults_apply_to_the_api_but_never_to_the_control_api(api: httpx.Client, xero: XeroSandbox) -> None:
    control = xero.control()
    control.post("/_sandbox/faults", json={"rules": [
        {"kind": "status", "status": 503, "path": "/api.xro/2.0/Contacts", "nth": 1},
        {"kind": "status", "status": 500, "path": "*", "probability": 1.0, "method": "DELETE"}], "seed": 7})
    assert api.get("/api.xro/2.0/Contacts").status_code == 503
    assert api.get("/api.xro/2.0/Contacts").status_code == 200
    assert control.get("/_sandbox/calls").status_code == 200
    control.delete("/_sandbox/faults")
    assert api.get("/api.xro/2.0/Contacts").status_code == 200


def test_control_clock_limits_and_state(xero: XeroSandbox) -> None:
    control = xero.control()
    before = control.get("/_sandbox/clock").json()
    assert before["frozen"] is True
    after = control.post("/_sandbox/clock", json={"advance": 90}).json()
    assert round(after["time"] - before["time"]) == 90
    assert control.post("/_sandbox/limits", json={"minute": 7, "concurrent": 2, "day": 9}).json()["limits"] == {
        "minute": 7, "concurrent": 2, "day": 9}
    contacts = control.get("/_sandbox/state/Contacts").json()["Contacts"]
    assert "Kauri Accounting Ltd" in {c["Name"] for c in contacts}
    assert control.get("/_sandbox/state/Widgets").status_code == 404
    assert control.post("/_sandbox/load", content=b"{oops").status_code == 400
    assert control.post("/_sandbox/limits", json={"minute": "many"}).status_code == 400


def test_control_load_replaces_the_data(xero: XeroSandbox) -> None:
    control = xero.control()
    fixture = {"Organisation": {"Name": "Harbour IT Ltd"}, "Contacts": [{"Name": "Only Contact Ltd"}]}
    assert control.post("/_sandbox/load", json=fixture).status_code == 200
    try:
        assert [c["Name"] for c in control.get("/_sandbox/state/Contacts").json()["Contacts"]] == ["Only Contact Ltd"]
        control.post("/_sandbox/reset")
        assert len(control.get("/_sandbox/state/Contacts").json()["Contacts"]) == 1
    finally:
        xero.sim.load(xero_demo())


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["Type", "Contact", "LineItems", "Quantity", "UnitAmount", "Status", "Date", "Tracking",
                         "AccountCode", "InvoiceNumber", "ContactID", "Name", "LineAmountTypes", "x"]),
        children, max_size=5),
    max_leaves=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JSON_VALUES)
def test_arbitrary_json_never_breaks_the_simulator(api: httpx.Client, xero: XeroSandbox, body: Any) -> None:
    for path in (INVOICES, "/api.xro/2.0/Contacts", "/api.xro/2.0/Payments"):
        response = api.put(path, content=json.dumps({"Invoices": [body]} if path == INVOICES else body))
        assert response.status_code in (200, 400), response.text
    assert xero.sim.errors == []
