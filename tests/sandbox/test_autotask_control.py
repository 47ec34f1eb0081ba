"""The `/_sandbox/` control API: load, reset, call log, faults, clock, touch, create, state."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from sandbox.autotask import AutotaskSimulator, create_app
from sandbox.autotask.testing import DEMO_CREDENTIALS, RunningAutotask, running_autotask, small_tenant
from sandbox.core import SandboxClock

QUERY = {"filter": [{"op": "gte", "field": "id", "value": 0}]}


@pytest.fixture(scope="module")
def at():
    with running_autotask(clock=SandboxClock()) as running:
        yield running


@pytest.fixture
def control(at: RunningAutotask):
    at.sim.reset()
    with at.control() as c:
        assert c.post("/load", json=small_tenant()).status_code == 200
        yield c
    at.sim.clock.unfreeze()


@pytest.fixture
def client(at: RunningAutotask, control: httpx.Client):
    with at.client() as c:
        yield c


def test_load_and_reset(control: httpx.Client, client: httpx.Client):
    assert client.post("/Companies/query/count", json=QUERY).json() == {"queryCount": 7}
    assert control.post("/reset").json() == {"reset": True}
    # creds survive reset; company 0, the MSP's own company, is in every tenant, an empty one too
    assert client.post("/Companies/query/count", json=QUERY).json() == {"queryCount": 1}
    loaded = control.post("/load", json={"sandbox": {"autotask": DEMO_CREDENTIALS}, "autotask": small_tenant()})
    assert loaded.json()["loaded"]["Companies"] == 7
    assert client.post("/Companies/query/count", json=QUERY).json() == {"queryCount": 7}


def test_load_rejects_bad_fixtures(control: httpx.Client):
    assert control.post("/load", json={"Widgets": []}).status_code == 404
    assert control.post("/load", json={"Companies": [{"id": 1, "colour": "red"}]}).status_code == 400
    assert control.post("/load", json={"Companies": [{"id": 1, "companyType": "x"}]}).status_code == 400
    assert control.post("/load", content=b"{nope").status_code == 400


def test_call_log_counts_api_calls_by_route_template(control: httpx.Client, client: httpx.Client):
    control.post("/calls/reset")
    client.post("/Companies/query", json=QUERY)
    client.post("/companies/query", json=QUERY)
    client.get("/Companies/1001")
    client.get("/Companies/1002")
    client.patch("/Invoices", json={"id": 3001, "webServiceDate": "2026-11-01"})
    client.post("/Companies/1001/Contacts", json={"firstName": "A", "lastName": "B", "isActive": 1})
    control.get("/state/Companies")                            # the control API is not an API call
    snapshot = control.get("/calls").json()
    assert snapshot["calls"] == {
        "POST /atservicesrest/v1.0/Companies/query": 2,
        "GET /atservicesrest/v1.0/Companies/{id}": 2,
        "PATCH /atservicesrest/v1.0/Invoices": 1,
        "POST /atservicesrest/v1.0/Companies/{parentId}/Contacts": 1,
    }
    assert snapshot["total"] == 6
    assert control.post("/calls/reset").json()["total"] == 0


def test_faults_hit_the_api_never_the_control_api(control: httpx.Client, client: httpx.Client):
    rules = [{"kind": "status", "status": 503, "path": "/atservicesrest/v1.0/Invoices/*", "probability": 1.0},
             {"kind": "status", "status": 500, "path": "*", "method": "DELETE", "probability": 1.0}]
    assert control.post("/faults", json={"rules": rules, "seed": 1}).json() == {"rules": 2}
    r = client.post("/invoices/query", json=QUERY)                # canonical path matched whatever the casing
    assert r.status_code == 503
    assert r.json() == {"errors": ["sandbox: injected fault"]}
    assert client.post("/Companies/query", json=QUERY).status_code == 200
    assert control.get("/state/Invoices").status_code == 200
    assert control.delete("/faults").json() == {"rules": 0}
    assert client.post("/Invoices/query", json=QUERY).status_code == 200


def test_nth_fault_and_dropped_connection(control: httpx.Client, client: httpx.Client):
    control.post("/faults", json={"rules": [{"kind": "drop", "nth": 2, "path": "*/Companies/query"}]})
    assert client.post("/Companies/query", json=QUERY).status_code == 200
    with pytest.raises(httpx.HTTPError):
        client.post("/Companies/query", json=QUERY)
    assert client.post("/Companies/query", json=QUERY).status_code == 200


def test_clock(at: RunningAutotask, control: httpx.Client):
    frozen = control.post("/clock", json={"freeze": True}).json()
    assert control.get("/clock").json()["time"] == frozen["time"]
    advanced = control.post("/clock", json={"advance": 3600}).json()
    assert advanced["time"] == pytest.approx(frozen["time"] + 3600)
    set_to = control.post("/clock", json={"set": "2026-11-01T09:30:00Z"}).json()
    assert set_to["now"] == "2026-11-01T09:30:00Z"
    assert at.sim.clock.now() == datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


def test_touch_is_a_ui_edit(at: RunningAutotask, control: httpx.Client, client: httpx.Client):
    control.post("/clock", json={"freeze": True, "set": "2026-11-02T01:00:00Z"})
    r = control.post("/touch/Invoices/3001", json={"isVoided": True, "voidedDate": "2026-11-02T01:00:00Z"})
    assert r.json() == {"itemId": 3001}
    invoice = client.get("/Invoices/3001").json()["item"]
    assert invoice["isVoided"] is True                         # read-only through the API, editable in the UI
    control.post("/touch/Companies/1002", json={"city": "Takapuna"})
    company = client.get("/Companies/1002").json()["item"]
    assert company["city"] == "Takapuna"
    assert company["lastTrackedModifiedDateTime"] == "2026-11-02T01:00:00Z"
    changed = client.post("/Companies/query", json={"filter": [
        {"op": "gt", "field": "lastTrackedModifiedDateTime", "value": "2026-11-01T00:00:00Z"}]}).json()["items"]
    assert [c["id"] for c in changed] == [1002]


def test_touch_errors(control: httpx.Client):
    assert control.post("/touch/Widgets/1", json={}).status_code == 404
    assert control.post("/touch/Companies/9", json={"city": "x"}).status_code == 404
    assert control.post("/touch/Companies/1001", json={"colour": "x"}).status_code == 400
    assert control.post("/touch/Companies/1001", json={"territoryID": "north"}).status_code == 400


def test_create_an_invoice_as_billing_would(control: httpx.Client, client: httpx.Client):
    r = control.post("/create/Invoices", json={
        "companyID": 1002, "invoiceNumber": "INV-20001", "invoiceDateTime": "2026-11-01", "isVoided": False,
        "billingItems": [
            {"itemName": "Managed Workstation (prorated)", "quantity": 3, "rate": 18.3333333, "taxDollars": 8.25,
             "billingItemType": 9},
            {"itemName": "Support", "quantity": 0.3333333, "rate": 165, "taxDollars": 8.25, "billingItemType": 1},
        ]})
    assert r.status_code == 200, r.text
    invoice_id, line_ids = r.json()["itemId"], r.json()["billingItemIds"]
    assert len(line_ids) == 2
    invoice = client.get(f"/Invoices/{invoice_id}").json()["item"]
    lines = client.post("/BillingItems/query", json={"filter": [
        {"op": "eq", "field": "invoiceID", "value": invoice_id}]}).json()["items"]
    assert [line["extendedPrice"] for line in lines] == [55.0, 55.0]
    assert [line["totalAmount"] for line in lines] == [63.25, 63.25]
    assert all(line["companyID"] == 1002 for line in lines)
    assert invoice["invoiceTotal"] == 126.5
    assert invoice["totalTaxValue"] == 16.5
    assert invoice["createDateTime"] is not None
    assert client.post("/Invoices/query", json={"filter": [
        {"op": "notExist", "field": "webServiceDate"}, {"op": "eq", "field": "isVoided", "value": False}]}
    ).json()["items"][-1]["id"] == invoice_id


def test_create_errors(control: httpx.Client):
    assert control.post("/create/Invoices", json={"id": 3001}).status_code == 400      # duplicate id
    assert control.post("/create/Gadgets", json={}).status_code == 404


def test_state(control: httpx.Client):
    items = control.get("/state/Contacts").json()["items"]
    assert [c["id"] for c in items] == [2001, 2002, 2003]
    assert control.get("/state/Contacts/2003").json()["item"]["isActive"] == 0
    assert control.get("/state/Contacts/9").status_code == 404


def test_unexpected_errors_do_not_crash_the_server(at: RunningAutotask, client: httpx.Client,
                                                   monkeypatch: pytest.MonkeyPatch):
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(at.sim, "api_count", boom)
    r = client.post("/Companies/query/count", json=QUERY)
    assert r.status_code == 500
    assert r.json() == {"Message": "An error has occurred."}   # ASP.NET's answer, not an Autotask refusal
    monkeypatch.undo()
    assert client.post("/Companies/query/count", json=QUERY).status_code == 200


def test_create_app_returns_a_starlette_app_over_the_simulator():
    sim = AutotaskSimulator(SandboxClock(), thread_limit=2, hourly_limit=50)
    app = create_app(sim)
    assert app.state.sim is sim
    assert sim.thread_limit == 2
    assert sim.hourly_limit == 50


def test_count_of_records_missing_a_field(control: httpx.Client, client: httpx.Client):
    invoices = control.get("/state/Invoices").json()["items"]
    unstamped = sum(1 for i in invoices if not i.get("webServiceDate"))
    assert control.get("/count/Invoices").json() == {"count": len(invoices)}
    assert control.get("/count/Invoices", params={"missing": "webServiceDate"}).json() == {"count": unstamped}
    client.patch("/Invoices", json={"id": next(i["id"] for i in invoices if not i.get("webServiceDate")),
                                    "webServiceDate": "2026-11-26T00:00:00Z"})
    assert control.get("/count/Invoices", params={"missing": "webServiceDate"}).json() == {"count": unstamped - 1}
