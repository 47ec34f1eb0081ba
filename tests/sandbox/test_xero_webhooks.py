"""Webhooks: events queued on every create/update of a contact, invoice or credit note (a payment or an
allocation announces its document only with `settlement_events`: undocumented by Xero), signed batches
delivered on request, undelivered events kept, and the intent-to-receive handshake."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.core import RunningServer, serve_in_thread
from sandbox.fixtures.xero_demo import demo_id
from sandbox.xero.testing import XeroSandbox, find_spec

KEY = "sandbox-xero-webhook-key"
KAURI = demo_id("contact", "Kauri Accounting Ltd")
LINE = {"Description": "Managed services", "Quantity": 1, "UnitAmount": 100, "AccountCode": "210"}


@dataclass
class Receiver:
    """A webhook endpoint that checks signatures like a real receiver (or misbehaves on purpose)."""

    server: RunningServer | None = None
    mode: str = "verify"  # verify | fail | always-ok
    batches: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        expected = base64.b64encode(hmac.new(KEY.encode(), body, hashlib.sha256).digest()).decode()
        signed = hmac.compare_digest(expected, request.headers.get("x-xero-signature", ""))
        status = {"verify": 200 if signed else 401, "fail": 503, "always-ok": 200}[self.mode]
        if status == 200 and signed:
            self.batches.append(json.loads(body))
        self.statuses.append(status)
        return Response(status_code=status)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"{self.server.url}/webhooks/xero"


@pytest.fixture(scope="module")
def server() -> Iterator[XeroSandbox]:
    with XeroSandbox.start() as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.server = serve_in_thread(Starlette(routes=[Route("/webhooks/xero", receiver.endpoint,
                                                              methods=["POST"])]))
    yield receiver
    receiver.server.stop()


@pytest.fixture
def receiver(receiver_server: Receiver) -> Receiver:
    receiver_server.mode = "verify"
    receiver_server.batches.clear()
    receiver_server.statuses.clear()
    return receiver_server


@pytest.fixture
def xero(server: XeroSandbox, receiver: Receiver) -> XeroSandbox:
    server.reset()
    assert server.control().post("/_sandbox/webhooks/targets", json={"url": receiver.url}).status_code == 200
    return server


@pytest.fixture(scope="module")
def webhook_components() -> dict[str, Any]:
    path = find_spec("xero-webhooks.yaml")
    if path is None:
        pytest.fail("xero-webhooks.yaml not found: it is vendored in tests/contract/specs/ (or set XERO_SPECS_DIR)")
    return dict(yaml.safe_load(path.read_text(encoding="utf-8"))["components"])


def _deliver(xero: XeroSandbox) -> list[dict[str, Any]]:
    response = xero.control().post("/_sandbox/webhooks/deliver")
    assert response.status_code == 200
    return list(response.json()["deliveries"])


def test_changes_queue_events_and_delivery_is_signed(xero: XeroSandbox, receiver: Receiver) -> None:
    api = xero.client()
    contact = api.put("/api.xro/2.0/Contacts", json={"Contacts": [{"Name": "Rimu Rentals"}]}).json()["Contacts"][0]
    invoice = api.put("/api.xro/2.0/Invoices", json={"Invoices": [
        {"Type": "ACCREC", "Contact": {"ContactID": contact["ContactID"]}, "Status": "AUTHORISED",
         "LineItems": [LINE]}]}).json()["Invoices"][0]
    api.put("/api.xro/2.0/Payments", json={"Payments": [
        {"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Account": {"Code": "090"}, "Amount": 115}]})
    assert receiver.batches == []  # nothing is sent until delivery is asked for

    [delivery] = _deliver(xero)
    assert delivery["status"] == 200 and delivery["delivered"] == 2
    [batch] = receiver.batches
    assert (batch["firstEventSequence"], batch["lastEventSequence"]) == (1, 2)
    assert len(batch["entropy"]) == 20
    kinds = [(e["eventCategory"], e["eventType"], e["resourceId"]) for e in batch["events"]]
    # no event claimed for the payment: Xero does not document one
    assert kinds == [("CONTACT", "CREATE", contact["ContactID"]), ("INVOICE", "CREATE", invoice["InvoiceID"])]
    event = batch["events"][1]
    assert event["tenantId"] == xero.tenant_id and event["tenantType"] == "ORGANISATION"
    assert event["resourceUrl"] == f"{xero.url}/api.xro/2.0/Invoices/{invoice['InvoiceID']}"
    assert event["eventDateUtc"] == "2026-03-02T21:00:00.000"
    # delivered events are not sent again
    assert _deliver(xero)[0]["delivered"] == 0 and len(receiver.batches) == 1


def test_batches_match_the_webhooks_spec(xero: XeroSandbox, receiver: Receiver,
                                        webhook_components: dict[str, Any]) -> None:
    api = xero.client()
    api.put("/api.xro/2.0/Contacts", json={"Contacts": [{"Name": "Rimu Rentals"}]})
    api.put("/api.xro/2.0/Invoices", json={"Invoices": [
        {"Type": "ACCREC", "Contact": {"ContactID": KAURI}, "LineItems": [LINE]}]})
    _deliver(xero)
    api.put("/api.xro/2.0/CreditNotes", json={"CreditNotes": [
        {"Type": "ACCPAYCREDIT", "Contact": {"ContactID": KAURI}, "LineItems": [LINE | {"AccountCode": "300"}]}]})
    _deliver(xero)
    general, credit = receiver.batches
    jsonschema.validate(general, {"$ref": "#/components/schemas/WebhookEvent", "components": webhook_components})
    jsonschema.validate(credit, {"$ref": "#/components/schemas/CreditNoteWebhookEvent",
                                 "components": webhook_components})
    with pytest.raises(jsonschema.ValidationError):  # the check can fail: a contact event is no credit-note event
        jsonschema.validate(general, {"$ref": "#/components/schemas/CreditNoteWebhookEvent",
                                      "components": webhook_components})


def test_credit_note_events_carry_type_and_status(xero: XeroSandbox, receiver: Receiver) -> None:
    api = xero.client()
    note = api.put("/api.xro/2.0/CreditNotes", json={"CreditNotes": [
        {"Type": "ACCRECCREDIT", "Contact": {"ContactID": KAURI}, "LineItems": [LINE]}]}).json()["CreditNotes"][0]
    api.post(f"/api.xro/2.0/CreditNotes/{note['CreditNoteID']}", json={"CreditNotes": [{"Status": "AUTHORISED"}]})
    _deliver(xero)
    events = receiver.batches[0]["events"]
    assert [(e["eventType"], e["data"]) for e in events] == [
        ("CREATE", {"Type": "ACCRECCREDIT", "Status": "DRAFT"}),
        ("UPDATE", {"Type": "ACCRECCREDIT", "Status": "AUTHORISED"})]


def test_payments_announce_their_invoice_only_when_asked(xero: XeroSandbox, receiver: Receiver) -> None:
    api = xero.client()
    invoice = api.put("/api.xro/2.0/Invoices", json={"Invoices": [
        {"Type": "ACCREC", "Contact": {"ContactID": KAURI}, "Status": "AUTHORISED", "LineItems": [LINE]}]}
    ).json()["Invoices"][0]
    payment = {"Payments": [{"Invoice": {"InvoiceID": invoice["InvoiceID"]}, "Account": {"Code": "090"},
                             "Amount": 10}]}
    xero.sim.clock.advance(60)
    api.put("/api.xro/2.0/Payments", json=payment)
    paid = api.get(f"/api.xro/2.0/Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]
    assert paid["UpdatedDateUTC"] != invoice["UpdatedDateUTC"]  # the poll's If-Modified-Since still sees it
    control = httpx.Client(base_url=xero.url)
    assert control.post("/_sandbox/webhooks/settlement-events", json={"enabled": True}).json() == {"enabled": True}
    api.put("/api.xro/2.0/Payments", json=payment)
    _deliver(xero)
    kinds = [(e["eventCategory"], e["eventType"]) for e in receiver.batches[0]["events"]]
    assert kinds == [("INVOICE", "CREATE"), ("INVOICE", "UPDATE")]  # only the second payment, once asked
    xero.sim.reset()
    assert control.get("/_sandbox/webhooks/settlement-events").json() == {"enabled": False}


def test_voids_and_allocations_are_invoice_updates(xero: XeroSandbox, receiver: Receiver) -> None:
    xero.sim.settlement_events = True  # allocations announce their documents only when asked (unverified)
    api = xero.client()
    first, second = api.put("/api.xro/2.0/Invoices", json={"Invoices": [
        {"Type": "ACCREC", "Contact": {"ContactID": KAURI}, "Status": "AUTHORISED", "LineItems": [LINE]}] * 2}
    ).json()["Invoices"]
    api.post(f"/api.xro/2.0/Invoices/{first['InvoiceID']}", json={"Invoices": [{"Status": "VOIDED"}]})
    note = api.put("/api.xro/2.0/CreditNotes", json={"CreditNotes": [
        {"Type": "ACCRECCREDIT", "Contact": {"ContactID": KAURI}, "Status": "AUTHORISED", "LineItems": [LINE]}]}
    ).json()["CreditNotes"][0]
    api.put(f"/api.xro/2.0/CreditNotes/{note['CreditNoteID']}/Allocations", json={"Allocations": [
        {"Invoice": {"InvoiceID": second["InvoiceID"]}, "Amount": 10, "Date": "2026-03-02"}]})
    _deliver(xero)
    updates = [(e["eventCategory"], e["resourceId"]) for e in receiver.batches[0]["events"]
               if e["eventType"] == "UPDATE"]
    assert updates == [("INVOICE", first["InvoiceID"]), ("INVOICE", second["InvoiceID"]),
                       ("CREDITNOTE", note["CreditNoteID"])]


def test_failed_delivery_keeps_the_events(xero: XeroSandbox, receiver: Receiver) -> None:
    api = xero.client()
    api.put("/api.xro/2.0/Contacts", json={"Contacts": [{"Name": "Rimu Rentals"}]})
    receiver.mode = "fail"
    [failed] = _deliver(xero)
    assert (failed["status"], failed["delivered"], failed["pending"]) == (503, 0, 1)
    api.put("/api.xro/2.0/Contacts", json={"Contacts": [{"Name": "Matai Motors"}]})
    receiver.mode = "verify"
    [retried] = _deliver(xero)
    assert (retried["status"], retried["delivered"]) == (200, 2)
    assert [e["eventType"] for e in receiver.batches[0]["events"]] == ["CREATE", "CREATE"]


def test_unreachable_target_is_reported_not_fatal(xero: XeroSandbox, receiver: Receiver) -> None:
    xero.control().post("/_sandbox/webhooks/targets", json={"url": "http://127.0.0.1:9/nowhere"})
    xero.client().put("/api.xro/2.0/Contacts", json={"Contacts": [{"Name": "Rimu Rentals"}]})
    deliveries = {d["url"]: d for d in _deliver(xero)}
    assert deliveries[receiver.url]["status"] == 200
    unreachable = deliveries["http://127.0.0.1:9/nowhere"]
    assert unreachable["status"] is None and unreachable["error"] and unreachable["pending"] == 1


def test_intent_to_receive(xero: XeroSandbox, receiver: Receiver) -> None:
    good = xero.control().post("/_sandbox/webhooks/intent-to-receive", json={"url": receiver.url}).json()
    assert good["ok"] is True
    [result] = good["results"]
    assert (result["correctlySigned"]["status"], result["incorrectlySigned"]["status"]) == (200, 401)
    assert receiver.batches[0]["events"] == [] and receiver.batches[0]["firstEventSequence"] == 0
    receiver.mode = "always-ok"  # a receiver that does not check signatures fails the handshake
    lax = xero.control().post("/_sandbox/webhooks/intent-to-receive").json()
    assert lax["ok"] is False
    assert lax["results"][0]["incorrectlySigned"]["status"] == 200


def test_events_only_after_a_target_registers(server: XeroSandbox, receiver: Receiver) -> None:
    server.reset()
    server.client().put("/api.xro/2.0/Contacts", json={"Contacts": [{"Name": "Before Target Ltd"}]})
    server.control().post("/_sandbox/webhooks/targets", json={"url": receiver.url})
    server.client().put("/api.xro/2.0/Contacts", json={"Contacts": [{"Name": "After Target Ltd"}]})
    _deliver(server)
    assert len(receiver.batches[0]["events"]) == 1
    assert len(server.control().get("/_sandbox/webhooks").json()["events"]) == 2
