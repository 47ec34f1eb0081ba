"""Webhooks (docs/autotask.md §11): registration, field subscriptions, signed delivery, retries, deactivation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.autotask import API_RESOURCE_ID, UI_RESOURCE_ID
from sandbox.autotask.testing import RunningAutotask, running_autotask, small_tenant
from sandbox.autotask.webhooks import escape_json_strings
from sandbox.core import serve_in_thread

SECRET = "whsec-sandbox-0123456789"


class Receiver:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.status = 200

        async def hook(request: Request) -> Response:
            self.requests.append((request.url.path, dict(request.headers), await request.body()))
            return Response(status_code=self.status)

        self.server = serve_in_thread(Starlette(routes=[Route("/{path:path}", hook, methods=["POST"])]))

    @property
    def url(self) -> str:
        return self.server.url

    def payloads(self, path: str = "/hook") -> list[dict]:
        return [json.loads(body) for p, _, body in self.requests if p == path]


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.server.stop()


@pytest.fixture(scope="module")
def at():
    with running_autotask(small_tenant()) as running:
        yield running


@pytest.fixture
def client(at: RunningAutotask, receiver: Receiver):
    at.sim.load(small_tenant())
    at.sim.configure_webhooks(signing="raw")
    receiver.requests.clear()
    receiver.status = 200
    with at.client() as c:
        yield c


def field_ids(client: httpx.Client, resource: str) -> dict[str, int]:
    fields = client.get(f"/{resource}Fields/entityInformation/fields").json()["fields"]
    picklist = next(f for f in fields if f["name"] == "fieldID")["picklistValues"]
    return {p["label"]: int(p["value"]) for p in picklist}


def register(client: httpx.Client, receiver: Receiver, resource: str = "CompanyWebhooks", *,
             subscribe: tuple[str, ...] = ("companyName",), always: tuple[str, ...] = ("companyNumber",)) -> int:
    r = client.post(f"/{resource}", json={
        "IsActive": True, "Name": "autoxero", "WebhookUrl": f"{receiver.url}/hook",
        "DeactivationUrl": f"{receiver.url}/deactivated", "SecretKey": SECRET,
        "IsSubscribedToCreateEvents": True, "IsSubscribedToUpdateEvents": True,
        "IsSubscribedToDeleteEvents": True, "SendThresholdExceededNotification": False})
    assert r.status_code == 200, r.text
    hook_id = r.json()["itemId"]
    ids = field_ids(client, resource.removesuffix("s"))
    for name in subscribe:
        r = client.post(f"/{resource}/{hook_id}/Fields", json={"FieldID": ids[name], "IsSubscribedField": True,
                                                              "IsDisplayAlwaysField": False})
        assert r.status_code == 200, r.text
    for name in always:
        client.post(f"/{resource}/{hook_id}/Fields", json={"FieldID": ids[name], "IsSubscribedField": False,
                                                           "IsDisplayAlwaysField": True})
    return hook_id


def deliver(at: RunningAutotask) -> dict:
    with at.control() as control:
        r = control.post("/webhooks/deliver")
    assert r.status_code == 200
    return r.json()


def expected_signature(body: bytes) -> str:
    return "sha1=" + base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha1).digest()).decode()


def test_registration_returns_an_id_and_is_not_ready_until_a_field_is_subscribed(client: httpx.Client,
                                                                                  receiver: Receiver):
    hook_id = register(client, receiver, subscribe=(), always=())
    hook = client.get(f"/CompanyWebhooks/{hook_id}").json()["item"]
    assert hook["isReady"] is False
    assert hook["webhookGUID"]
    assert hook["ownerResourceID"] == API_RESOURCE_ID
    ids = field_ids(client, "CompanyWebhook")
    client.post(f"/CompanyWebhooks/{hook_id}/Fields", json={"FieldID": ids["phone"], "IsSubscribedField": True})
    assert client.get(f"/CompanyWebhooks/{hook_id}").json()["item"]["isReady"] is True


def test_deactivation_url_is_required(client: httpx.Client, receiver: Receiver):
    r = client.post("/CompanyWebhooks", json={"IsActive": True, "Name": "x", "WebhookUrl": f"{receiver.url}/hook",
                                              "SecretKey": SECRET})
    assert r.status_code == 500
    assert "deactivationUrl" in r.json()["errors"][0]


def test_unknown_field_id_is_rejected(client: httpx.Client, receiver: Receiver):
    hook_id = register(client, receiver)
    r = client.post(f"/CompanyWebhooks/{hook_id}/Fields", json={"FieldID": 1, "IsSubscribedField": True})
    assert r.status_code == 500


def test_subscribed_change_is_delivered_signed(at: RunningAutotask, client: httpx.Client, receiver: Receiver):
    register(client, receiver)
    client.patch("/Companies", json={"id": 1001, "companyName": "Kauri Accounting Limited"})
    assert receiver.requests == []                     # nothing goes out until delivery is asked for
    report = deliver(at)
    assert report["delivered"] == 1
    assert report["failed"] == 0
    path, headers, body = receiver.requests[0]
    assert path == "/hook"
    assert headers["x-hook-signature"] == expected_signature(body)
    assert headers["x-hook-signature"] != expected_signature(body + b" ")
    payload = json.loads(body)
    assert set(payload) == {"Action", "Guid", "EntityType", "Id", "Fields", "EventTime", "SequenceNumber",
                            "PersonID"}
    assert payload["Action"] == "Update"
    assert payload["EntityType"] == "Company"
    assert payload["Id"] == 1001
    assert payload["Fields"] == {"CompanyName": "Kauri Accounting Limited", "CompanyNumber": None}
    assert payload["PersonID"] == API_RESOURCE_ID
    assert payload["SequenceNumber"] == 1
    assert deliver(at)["delivered"] == 0               # delivered once only


def test_unsubscribed_change_fires_nothing(at: RunningAutotask, client: httpx.Client, receiver: Receiver):
    register(client, receiver)
    client.patch("/Companies", json={"id": 1001, "phone": "09 000 0000"})
    client.patch("/Companies", json={"id": 1001, "companyName": "Kauri Accounting Ltd"})    # unchanged value
    assert deliver(at)["delivered"] == 0
    assert receiver.requests == []


def test_a_ui_edit_fires_with_the_person(at: RunningAutotask, client: httpx.Client, receiver: Receiver):
    register(client, receiver)
    with at.control() as control:
        assert control.post("/touch/Companies/1002", json={"companyName": "Pōhutukawa Dental"}).status_code == 200
    deliver(at)
    payload = receiver.payloads()[0]
    assert payload["PersonID"] == UI_RESOURCE_ID
    assert payload["Fields"]["CompanyName"] == "Pōhutukawa Dental"
    assert client.get("/Companies/1002").json()["item"]["lastTrackedModifiedDateTime"] != "2026-09-01T00:00:00Z"


def test_excluded_resources_do_not_trigger(at: RunningAutotask, client: httpx.Client, receiver: Receiver):
    hook_id = register(client, receiver)
    r = client.post(f"/CompanyWebhooks/{hook_id}/ExcludedResources", json={"ResourceID": API_RESOURCE_ID})
    assert r.status_code == 200
    client.patch("/Companies", json={"id": 1001, "companyName": "Our own write"})
    at.sim.touch("Companies", 1002, {"companyName": "Someone else's edit"})
    deliver(at)
    assert [p["Fields"]["CompanyName"] for p in receiver.payloads()] == ["Someone else's edit"]


def test_failed_delivery_is_kept_and_retried(at: RunningAutotask, client: httpx.Client, receiver: Receiver):
    register(client, receiver)
    client.patch("/Companies", json={"id": 1001, "companyName": "Retry Me Ltd"})
    receiver.status = 503
    first = deliver(at)
    assert first["failed"] == 1
    assert first["pending"] == 1
    assert first["events"][0]["last_status"] == 503
    receiver.status = 200
    second = deliver(at)
    assert second["delivered"] == 1
    assert second["events"][0]["attempts"] == 2
    bodies = [body for _, _, body in receiver.requests]
    assert bodies[0] == bodies[1]                       # the same event, not a new one
    assert deliver(at)["pending"] == 0


def test_unreachable_receiver_counts_as_failure(at: RunningAutotask, client: httpx.Client):
    r = client.post("/CompanyWebhooks", json={
        "IsActive": True, "Name": "dead", "WebhookUrl": "http://127.0.0.1:9/hook",
        "DeactivationUrl": "http://127.0.0.1:9/d", "SecretKey": SECRET, "IsSubscribedToUpdateEvents": True})
    hook_id = r.json()["itemId"]
    ids = field_ids(client, "CompanyWebhook")
    client.post(f"/CompanyWebhooks/{hook_id}/Fields", json={"FieldID": ids["companyName"], "IsSubscribedField": True})
    at.sim.touch("Companies", 1001, {"companyName": "Nobody Listening Ltd"})
    report = deliver(at)
    assert report["failed"] == 1
    assert report["events"][0]["last_error"]


def test_five_attempts_then_the_error_log(at: RunningAutotask, client: httpx.Client, receiver: Receiver):
    register(client, receiver)
    at.sim.touch("Companies", 1001, {"companyName": "Never Delivered Ltd"})
    receiver.status = 500
    for _ in range(5):
        deliver(at)
    status = at.sim.webhook_status()
    assert status["pending"] == []
    assert len(status["errorLog"]) == 1
    assert status["errorLog"][0]["attempts"] == 5


def test_deactivated_after_25_consecutive_failures(at: RunningAutotask, client: httpx.Client, receiver: Receiver):
    hook_id = register(client, receiver)
    for n in range(25):
        at.sim.touch("Companies", 1001, {"companyName": f"Change {n}"})
    receiver.status = 500
    deliver(at)
    assert client.get(f"/CompanyWebhooks/{hook_id}").json()["item"]["isActive"] is False
    deactivation = receiver.payloads("/deactivated")
    assert len(deactivation) == 1
    assert deactivation[0]["Action"] == "Deactivated"
    receiver.status = 200
    at.sim.touch("Companies", 1001, {"companyName": "After deactivation"})
    assert at.sim.webhook_status()["pending"] == []


def test_contact_webhooks_create_update_delete(at: RunningAutotask, client: httpx.Client, receiver: Receiver):
    register(client, receiver, "ContactWebhooks", subscribe=("firstName", "emailAddress"), always=("companyID",))
    created = client.post("/Companies/1002/Contacts", json={"firstName": "Hemi", "lastName": "Parata",
                                                           "isActive": 1, "emailAddress": "hemi@pd.co.nz"})
    contact_id = created.json()["itemId"]
    client.patch("/Companies/1002/Contacts", json={"id": contact_id, "emailAddress": "hemi@pohutukawa.co.nz"})
    client.delete(f"/Companies/1002/Contacts/{contact_id}")
    deliver(at)
    payloads = receiver.payloads()
    assert [p["Action"] for p in payloads] == ["Create", "Update", "Delete"]
    assert {p["EntityType"] for p in payloads} == {"Contact"}
    assert payloads[0]["Fields"] == {"CompanyID": 1002, "FirstName": "Hemi", "EmailAddress": "hemi@pd.co.nz"}
    assert payloads[1]["Fields"] == {"CompanyID": 1002, "EmailAddress": "hemi@pohutukawa.co.nz"}
    assert payloads[2]["Fields"] == {"CompanyID": 1002}
    assert [p["SequenceNumber"] for p in payloads] == [1, 2, 3]


def test_udf_subscription(at: RunningAutotask, client: httpx.Client, receiver: Receiver):
    hook_id = register(client, receiver, subscribe=(), always=("companyName",))
    udf_fields = client.get("/CompanyWebhookUdfFields/entityInformation/fields").json()["fields"]
    picklist = next(f for f in udf_fields if f["name"] == "udfFieldID")["picklistValues"]
    billing = next(int(p["value"]) for p in picklist if p["label"] == "Billing Contact")
    r = client.post(f"/CompanyWebhooks/{hook_id}/UdfFields", json={"UdfFieldID": billing, "IsSubscribedField": True})
    assert r.status_code == 200
    client.patch("/Companies", json={"id": 1002, "userDefinedFields": [{"name": "Billing Contact",
                                                                         "value": "Aroha Ngata"}]})
    deliver(at)
    assert receiver.payloads()[0]["Fields"] == {"CompanyName": "Pohutukawa Dental", "Billing Contact": "Aroha Ngata"}


def test_escaped_signing_is_the_default(at: RunningAutotask, client: httpx.Client, receiver: Receiver):
    """Autotask signs a body whose special and non-ASCII characters are \\u-escaped (docs/autotask.md §11)."""
    at.sim.reset()
    at.sim.load(small_tenant())
    register(client, receiver)
    at.sim.touch("Companies", 1004, {"companyName": 'Ngā Tāngata "Whānau" & Co'})
    deliver(at)
    _, headers, body = receiver.requests[0]
    assert json.loads(body)["Fields"]["CompanyName"] == 'Ngā Tāngata "Whānau" & Co'   # raw body stays plain
    assert headers["x-hook-signature"] != expected_signature(body)
    assert headers["x-hook-signature"] == expected_signature(escape_json_strings(body.decode()).encode())


def test_escape_json_strings():
    assert escape_json_strings('{"a":"x & y"}') == '{"a":"x \\u0026 y"}'
    assert escape_json_strings('{"a":"ā"}') == '{"a":"\\u0101"}'
    assert escape_json_strings('{"a":"say \\"hi\\""}') == '{"a":"say \\u0022hi\\u0022"}'
    assert escape_json_strings('{"a":1,"b":true}') == '{"a":1,"b":true}'
    assert escape_json_strings('{"a":"😀"}') == '{"a":"\\uD83D\\uDE00"}'
    assert escape_json_strings('{"a":"C:\\\\x `y` + z"}') == '{"a":"C:\\\\x \\u0060y\\u0060 \\u002B z"}'


def test_every_event_carries_the_webhooks_own_guid(at: RunningAutotask, client: httpx.Client, receiver: Receiver):
    """NangoHQ/nango routes Autotask deliveries on payload Guid == the webhook's webhookGUID."""
    hook_id = register(client, receiver)
    client.patch("/Companies", json={"id": 1001, "companyName": "First Ltd"})
    client.patch("/Companies", json={"id": 1002, "companyName": "Second Ltd"})
    deliver(at)
    guid = client.get(f"/CompanyWebhooks/{hook_id}").json()["item"]["webhookGUID"]
    assert [(p["Guid"], p["SequenceNumber"]) for p in receiver.payloads()] == [(guid, 1), (guid, 2)]


def test_webhook_configuration_via_control_api(at: RunningAutotask, client: httpx.Client):
    with at.control() as control:
        assert control.post("/webhooks/config", json={"signing": "escaped"}).json()["signing"] == "escaped"
        assert control.post("/webhooks/config", json={"signing": "rot13"}).status_code == 400
        assert control.get("/webhooks").json()["signing"] == "escaped"
