"""Idempotency-Key on PUT/POST as Xero's guide describes it (sources in sandbox/xero/idempotency.py): a repeat of
the same request with the same key within six minutes of the first call returns the first answer byte for byte
(5xx too) and writes nothing; the same key on a different request is a 400; after six minutes the key is new."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.fixtures.xero_demo import demo_id
from sandbox.xero.testing import XeroSandbox

INVOICES = "/api.xro/2.0/Invoices"
BILL = {"Type": "ACCPAY", "Contact": {"ContactID": demo_id("contact", "Dicker Data NZ")}, "InvoiceNumber": "DD-1",
        "LineItems": [{"Description": "Stock", "Quantity": 1, "UnitAmount": 10, "AccountCode": "310"}]}


def _bills(xero: XeroSandbox) -> list[dict[str, Any]]:
    return [i for i in xero.sim.state("Invoices") if i["Type"] == "ACCPAY"]


def test_same_key_replays_the_first_response_and_writes_nothing(xero: XeroSandbox) -> None:
    api = xero.client()
    xero.control().post("/_sandbox/webhooks/targets", json={"url": "http://127.0.0.1:9/unused"})
    first = api.put(INVOICES, json={"Invoices": [BILL]}, headers={"Idempotency-Key": "bill-dd-1"})
    xero.sim.clock.advance(30)
    again = api.put(INVOICES, json={"Invoices": [BILL]}, headers={"Idempotency-Key": "bill-dd-1"})
    assert first.status_code == again.status_code == 200
    assert again.content == first.content  # same envelope Id and DateTimeUTC too
    assert len(_bills(xero)) == 1
    assert len(xero.sim.webhooks.snapshot()["events"]) == 1
    # a different key is a different request (bills' numbers need not be unique)
    other = api.put(INVOICES, json={"Invoices": [BILL]}, headers={"Idempotency-Key": "bill-dd-1-retry"})
    assert other.content != first.content and len(_bills(xero)) == 2
    # without a key every PUT writes
    api.put(INVOICES, json={"Invoices": [BILL]})
    assert len(_bills(xero)) == 3


def test_error_responses_are_replayed_and_a_changed_body_is_a_different_request(xero: XeroSandbox) -> None:
    api = xero.client()
    accrec = BILL | {"Type": "ACCREC", "Contact": {"ContactID": demo_id("contact", "Kauri Accounting Ltd")},
                     "LineItems": [{"Description": "x", "Quantity": 1, "UnitAmount": 1, "AccountCode": "999"}]}
    first = api.put(INVOICES, json={"Invoices": [accrec]}, headers={"Idempotency-Key": "k-err"})
    assert first.status_code == 400
    again = api.put(INVOICES, json={"Invoices": [accrec]}, headers={"Idempotency-Key": "k-err"})
    assert (again.status_code, again.content) == (400, first.content)
    fixed = accrec | {"LineItems": [{"Description": "x", "Quantity": 1, "UnitAmount": 1, "AccountCode": "200"}]}
    changed = api.put(INVOICES, json={"Invoices": [fixed]}, headers={"Idempotency-Key": "k-err"})
    assert changed.status_code == 400
    assert changed.json()["Message"] == "Idempotency Key: k-err is used with a different request."
    other_url = api.put(INVOICES + "?unitdp=4", json={"Invoices": [accrec]}, headers={"Idempotency-Key": "k-err"})
    assert "used with a different request" in other_url.json()["Message"]
    assert [i for i in xero.sim.state("Invoices") if i["InvoiceNumber"] == "DD-1"] == []
    assert api.put(INVOICES, json={"Invoices": [fixed]}, headers={"Idempotency-Key": "k-new"}).status_code == 200


def test_a_key_is_kept_six_minutes_from_the_first_call_then_processed_as_new(xero: XeroSandbox) -> None:
    api = xero.client()
    first = api.put(INVOICES, json={"Invoices": [BILL]}, headers={"Idempotency-Key": "bill-window"})
    xero.sim.clock.advance(5 * 60 + 59)
    inside = api.put(INVOICES, json={"Invoices": [BILL]}, headers={"Idempotency-Key": "bill-window"})
    assert inside.content == first.content and len(_bills(xero)) == 1
    xero.sim.clock.advance(1)  # six minutes after the first call, not after the last replay
    after = api.put(INVOICES, json={"Invoices": [BILL]}, headers={"Idempotency-Key": "bill-window"})
    assert after.status_code == 200 and after.content != first.content
    assert len(_bills(xero)) == 2
    # after expiry the key starts a new window with the new request
    changed = api.put(INVOICES, json={"Invoices": [BILL | {"InvoiceNumber": "DD-2"}]},
                      headers={"Idempotency-Key": "bill-window"})
    assert changed.status_code == 400 and len(_bills(xero)) == 2


def test_an_internal_error_is_cached_and_replayed_even_once_resolved(xero: XeroSandbox) -> None:
    api = xero.client()
    xero.sim.fail_internally(after_write=True)
    first = api.put(INVOICES, json={"Invoices": [BILL]}, headers={"Idempotency-Key": "bill-500"})
    assert first.status_code == 500
    assert len(_bills(xero)) == 1  # the write took effect; the caller cannot know it
    again = api.put(INVOICES, json={"Invoices": [BILL]}, headers={"Idempotency-Key": "bill-500"})
    assert (again.status_code, again.content) == (500, first.content)
    xero.sim.fail_internally(after_write=False)
    before = api.put(INVOICES, json={"Invoices": [BILL]}, headers={"Idempotency-Key": "bill-500-b"})
    assert before.status_code == 500 and len(_bills(xero)) == 1
    assert api.put(INVOICES, json={"Invoices": [BILL]}, headers={"Idempotency-Key": "bill-500-b"}).status_code == 500
    assert xero.sim.errors == []  # injected, not a simulator defect
    xero.sim.clock.advance(6 * 60)
    assert api.put(INVOICES, json={"Invoices": [BILL]}, headers={"Idempotency-Key": "bill-500-b"}).status_code == 200
    assert len(_bills(xero)) == 2


def test_a_key_reused_for_another_organisation_is_a_different_request(xero: XeroSandbox) -> None:
    other = "0f0e0d0c-0b0a-4909-8807-060504030201"
    fixture = {"Contacts": [{"ContactID": demo_id("contact", "Dicker Data NZ"), "Name": "Dicker Data AU"}],
               "Accounts": [{"Code": "310", "Name": "Cost of Goods Sold", "Type": "DIRECTCOSTS"}],
               "Organisation": {"BaseCurrency": "NZD"}}
    xero.sim.add_tenant(other, "Harbour IT Australia Pty Ltd", fixture)
    try:
        token = xero.token(tenants=[xero.tenant_id, other])
        home, away = xero.client(token), xero.client(token, tenant=other)
        first = home.put(INVOICES, json={"Invoices": [BILL]}, headers={"Idempotency-Key": "shared"})
        second = away.put(INVOICES, json={"Invoices": [BILL]}, headers={"Idempotency-Key": "shared"})
        assert first.status_code == 200 and second.status_code == 400, second.text
        assert xero.sim.state("Invoices", other) == []
        third = away.put(INVOICES, json={"Invoices": [BILL]}, headers={"Idempotency-Key": "shared-au"})
        assert third.status_code == 200 and len(xero.sim.state("Invoices", other)) == 1
    finally:
        xero.sim.remove_tenant(other)


def test_payment_with_a_key_is_not_taken_twice(xero: XeroSandbox) -> None:
    api = xero.client()
    invoice = api.put(INVOICES, json={"Invoices": [BILL | {"Status": "AUTHORISED"}]}).json()["Invoices"][0]
    payment = {"Payments": [{"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Account": {"Code": "090"},
                             "Amount": 5}]}
    for _ in range(3):
        assert api.put("/api.xro/2.0/Payments", json=payment, headers={"Idempotency-Key": "pay-1"}).status_code == 200
    assert api.get(f"{INVOICES}/{invoice['InvoiceID']}").json()["Invoices"][0]["AmountPaid"] == 5


def test_key_longer_than_128_characters_is_refused(xero: XeroSandbox) -> None:
    api = xero.client()
    response = api.put(INVOICES, json={"Invoices": [BILL]}, headers={"Idempotency-Key": "k" * 129})
    assert response.status_code == 400
    assert _bills(xero) == []
    assert api.put(INVOICES, json={"Invoices": [BILL]}, headers={"Idempotency-Key": "k" * 128}).status_code == 200


def test_a_request_whose_client_gave_up_is_still_served_and_wait_idle_waits_for_it(xero: XeroSandbox) -> None:
    """A late answer is lost, not the effect: the bill is created after the client left. A harness that jumps
    the clock must wait for that first, or the request would be processed minutes "later", after its key
    expired (the chaos check once counted such bills twice)."""
    xero.sim.faults.configure([{"kind": "latency", "latency": 0.6, "method": "PUT", "path": "*/Invoices"}])
    impatient = xero.client()
    impatient.timeout = httpx.Timeout(0.1)
    with pytest.raises(httpx.ReadTimeout):
        impatient.put(INVOICES, json={"Invoices": [BILL]}, headers={"Idempotency-Key": "bill-late"})
    assert xero.sim.faults.wait_idle(timeout=10)
    assert len(_bills(xero)) == 1
    xero.sim.faults.clear()
    again = xero.client().put(INVOICES, json={"Invoices": [BILL]}, headers={"Idempotency-Key": "bill-late"})
    assert again.status_code == 200 and len(_bills(xero)) == 1
