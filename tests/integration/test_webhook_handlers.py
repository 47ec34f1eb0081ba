"""The two webhook receivers, invoked from template.yaml as Lambda would run them, against moto."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from autoxero.lambda_entry import MalformedEvent
from autoxero.webhooks import autotask_signature, xero_signature
from autoxero_cli.invoke import invoke
from autoxero_cli.localenv import seed_secrets

EVENTS = Path(__file__).parents[2] / "events"
XERO_KEY = "sandbox-xero-webhook-key"
AUTOTASK_KEY = "sandbox-autotask-webhook-secret"
TENANT = "6d8b8a1e-3c2f-4a8e-9f1b-2a7c5d9e0b11"
CREDS = {"xero": {"client_id": "cid", "client_secret": "very-secret-client-secret", "webhook_key": XERO_KEY,
                  "tenant_id": TENANT},
         "autotask": {"username": "u", "secret": "autotask-api-secret-value", "integration_code": "IC",
                      "webhook_secret": AUTOTASK_KEY}}


@pytest.fixture
def secrets(stack):
    seed_secrets(stack, CREDS)
    return stack


def queued(stack, logical_id: str) -> list[dict]:
    sqs = stack.client("sqs")
    url = stack.physical[logical_id]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def api_event(path: str, body: str, headers: dict[str, str], base64_body: bool = False) -> dict:
    event = json.loads((EVENTS / "xero_webhook.json").read_text())
    event.update(path=path, resource=path, headers={"Content-Type": "application/json", **headers},
                 body=base64.b64encode(body.encode()).decode() if base64_body else body,
                 isBase64Encoded=base64_body)
    return event


def xero_body(events: list[dict]) -> str:
    return json.dumps({"events": events, "firstEventSequence": 1, "lastEventSequence": len(events),
                       "entropy": "ABCDEFGHIJ"})


def xero_event(resource_id: str = "inv-1", tenant: str = TENANT, category: str = "INVOICE") -> dict:
    return {"resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{resource_id}", "resourceId": resource_id,
            "eventDateUtc": "2026-11-26T08:00:00.000", "eventType": "UPDATE", "eventCategory": category,
            "tenantId": tenant, "tenantType": "ORGANISATION"}


class TestXeroWebhook:
    def test_sample_event_is_accepted_and_enqueued(self, secrets):
        event = json.loads((EVENTS / "xero_webhook.json").read_text())
        reply = invoke("XeroWebhookFunction", event, secrets)
        assert reply["statusCode"] == 200 and reply["body"] == ""
        [message] = queued(secrets, "XeroEventsQueue")
        assert message["resource_id"] == "0032e1f5-a3b1-4cd7-8d0f-2e7d43c2b6a1"

    @pytest.mark.parametrize("base64_body", [False, True])
    def test_signature_is_over_the_raw_body(self, secrets, base64_body):
        body = xero_body([xero_event("inv-9")])
        reply = invoke("XeroWebhookFunction", api_event("/webhooks/xero", body, {
            "x-xero-signature": xero_signature(XERO_KEY, body.encode())}, base64_body), secrets)
        assert reply["statusCode"] == 200
        assert [m["resource_id"] for m in queued(secrets, "XeroEventsQueue")] == ["inv-9"]

    def test_intent_to_receive(self, secrets):
        body = xero_body([])
        good = invoke("XeroWebhookFunction", api_event("/webhooks/xero", body, {
            "x-xero-signature": xero_signature(XERO_KEY, body.encode())}), secrets)
        bad = invoke("XeroWebhookFunction", api_event("/webhooks/xero", body, {
            "x-xero-signature": xero_signature("wrong-key", body.encode())}), secrets)
        assert (good["statusCode"], bad["statusCode"]) == (200, 401)
        assert queued(secrets, "XeroEventsQueue") == []

    @pytest.mark.parametrize(("headers", "body"), [
        ({}, xero_body([xero_event()])),
        ({"x-xero-signature": "forged"}, xero_body([xero_event()])),
        ({"x-xero-signature": xero_signature(XERO_KEY, b"something else")}, xero_body([xero_event()])),
    ])
    def test_forged_or_missing_signature_is_401_and_enqueues_nothing(self, secrets, headers, body):
        reply = invoke("XeroWebhookFunction", api_event("/webhooks/xero", body, headers), secrets)
        assert reply["statusCode"] == 401
        assert queued(secrets, "XeroEventsQueue") == []

    def test_malformed_and_oversized_bodies(self, secrets):
        for body, status in (("{not json", 400), (json.dumps({"events": "nope"}), 400),
                             (xero_body([xero_event()]) + " " * 300_000, 413)):
            reply = invoke("XeroWebhookFunction", api_event("/webhooks/xero", body, {
                "x-xero-signature": xero_signature(XERO_KEY, body.encode())}), secrets)
            assert reply["statusCode"] == status, body[:40]
        assert queued(secrets, "XeroEventsQueue") == []

    def test_events_for_another_tenant_are_not_enqueued(self, secrets):
        body = xero_body([xero_event("a", tenant="someone-else"), xero_event("b"),
                          xero_event("c", category="CONTACT")])
        reply = invoke("XeroWebhookFunction", api_event("/webhooks/xero", body, {
            "x-xero-signature": xero_signature(XERO_KEY, body.encode())}), secrets)
        assert reply["statusCode"] == 200
        assert [m["resource_id"] for m in queued(secrets, "XeroEventsQueue")] == ["b"]


class TestAutotaskWebhook:
    def body(self, **overrides) -> str:
        payload = {"Action": "Update", "Guid": "g-1", "EntityType": "Company", "Id": 42,
                   "Fields": {"CompanyName": "Ngā Tāngata \"Whānau\" Trust & Co"}, "EventTime": "2026-11-26T08:00:00Z",
                   "SequenceNumber": 3, "PersonID": 7}
        payload.update(overrides)
        return json.dumps(payload, ensure_ascii=False)

    def test_signed_change_is_enqueued(self, secrets):
        body = self.body()
        reply = invoke("AutotaskWebhookFunction", api_event("/webhooks/autotask", body, {
            "X-Hook-Signature": autotask_signature(AUTOTASK_KEY, body.encode())}), secrets)
        assert reply["statusCode"] == 200
        [message] = queued(secrets, "AutotaskEventsQueue")
        assert (message["entity"], message["id"], message["guid"]) == ("Company", 42, "g-1")

    def test_signature_over_autotask_escaped_body_is_accepted(self, secrets):
        """Autotask hashes the body with `"`, `&` and non-ASCII as upper-case \\uXXXX escapes (vector by hand)."""
        body = self.body()
        signed = body.replace('\\"Whānau\\"', r"\u0022Wh\u0101nau\u0022")
        signed = signed.replace("Ngā Tāngata", r"Ng\u0101 T\u0101ngata").replace(" & ", r" \u0026 ")
        assert signed != body and "ā" not in signed
        reply = invoke("AutotaskWebhookFunction", api_event("/webhooks/autotask", body, {
            "X-Hook-Signature": autotask_signature(AUTOTASK_KEY, signed.encode())}), secrets)
        assert reply["statusCode"] == 200

    def test_every_event_of_a_webhook_has_its_own_key(self, secrets):
        """`Guid` is the webhook's GUID, the same on all its events: the key is Guid + record + sequence + time."""
        for sequence in (3, 4):
            body = self.body(SequenceNumber=sequence)
            invoke("AutotaskWebhookFunction", api_event("/webhooks/autotask", body, {
                "X-Hook-Signature": autotask_signature(AUTOTASK_KEY, body.encode())}), secrets)
        keys = [m["event_key"] for m in queued(secrets, "AutotaskEventsQueue")]
        assert len(keys) == 2 and len(set(keys)) == 2 and all(k.startswith("g-1/Company/42/") for k in keys)

    def test_forged_signature_is_401(self, secrets):
        body = self.body()
        reply = invoke("AutotaskWebhookFunction", api_event("/webhooks/autotask", body, {
            "X-Hook-Signature": autotask_signature("guess", body.encode())}), secrets)
        assert reply["statusCode"] == 401
        assert queued(secrets, "AutotaskEventsQueue") == []

    def test_unknown_entity_is_ignored(self, secrets):
        body = self.body(EntityType="Ticket")
        reply = invoke("AutotaskWebhookFunction", api_event("/webhooks/autotask", body, {
            "X-Hook-Signature": autotask_signature(AUTOTASK_KEY, body.encode())}), secrets)
        assert reply["statusCode"] == 200
        assert queued(secrets, "AutotaskEventsQueue") == []


def test_malformed_event_logs_a_clear_line_without_secrets(secrets, log_lines):
    with pytest.raises(MalformedEvent, match="not an API Gateway proxy event"):
        invoke("XeroWebhookFunction", {"something": "very-secret-client-secret"}, secrets)
    # The handler read no secret, but make sure a secret read earlier in the process is never echoed.
    good = json.loads((EVENTS / "xero_webhook.json").read_text())
    invoke("XeroWebhookFunction", good, secrets)
    with pytest.raises(MalformedEvent):
        invoke("XeroWebhookFunction", {"body": "autotask-api-secret-value very-secret-client-secret"}, secrets)
    out, lines = log_lines()
    rejected = [line for line in lines if line["message"] == "event rejected"]
    assert len(rejected) == 2
    assert rejected[0]["level"] == "ERROR" and "httpMethod" in rejected[0]["reason"]
    assert "very-secret-client-secret" not in out and "autotask-api-secret-value" not in out
