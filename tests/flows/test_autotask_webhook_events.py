"""Autotask Company webhooks as the simulator sends them (the webhook's own GUID on every event, bodies signed
the way Autotask signs them) through the receiver Lambda, the queue and SyncContacts, into Xero."""

from __future__ import annotations

import json
from pathlib import Path

from autoxero.sync.build import build_run, execute_run
from autoxero.sync.contacts import run_contacts
from autoxero_cli.invoke import invoke
from sandbox.autotask import webhooks as wh
from sandbox.autotask.schema import ENTITIES, webhook_field_id
from sandbox.autotask.simulator import API_RESOURCE_ID
from sandbox.fixtures.builder import Tenant
from tests.flows.test_invoice_rules import contacts_named, settle

SECRET = "sandbox-autotask-webhook-secret"  # the stack's Autotask webhook secret in the local deployment


def register_company_webhook(sim) -> int:
    hook_id = sim.api_create(ENTITIES["CompanyWebhooks"], {
        "IsActive": True, "Name": "autoxero", "WebhookUrl": "https://example.invalid/webhooks/autotask",
        "DeactivationUrl": "https://example.invalid/webhooks/autotask", "SecretKey": SECRET,
        "IsSubscribedToCreateEvents": True, "IsSubscribedToUpdateEvents": True}, resource_id=API_RESOURCE_ID)
    sim.api_create(ENTITIES["CompanyWebhookFields"], {
        "FieldID": webhook_field_id(ENTITIES["Companies"], "companyName"), "IsSubscribedField": True},
        resource_id=API_RESOURCE_ID, parent_id=hook_id)
    return hook_id


def deliver_to_receiver(local, times: int = 1) -> list[dict]:
    """Every queued simulator event, POSTed to the receiver Lambda `times` times (Autotask retries)."""
    sim = local.sandbox.autotask
    template = json.loads(Path("events/autotask_webhook.json").read_text())
    payloads = []
    for event in list(sim.webhooks.pending):
        body = event.body.decode("utf-8")
        request = dict(template, body=body, headers={"X-Hook-Signature": wh.sign(SECRET, event.body,
                                                                                 sim.webhooks.signing)})
        for _ in range(times):
            assert invoke("AutotaskWebhookFunction", request, local.stack, local.sandbox.endpoints)["statusCode"] == 200
        payloads.append(json.loads(body))
    sim.webhooks.pending.clear()
    return payloads


def sqs_records(messages: list[dict]) -> list[dict]:
    """Queue messages as Lambda's SQS event hands them to a function."""
    return [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
             "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "md5OfBody": "",
             "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
             "awsRegion": "us-east-1"} for m in messages]


def drain_into_sync_contacts(local) -> None:
    sqs = local.stack.client("sqs")
    url = local.stack.physical["AutotaskEventsQueue"]
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        reply = invoke("SyncContactsFunction", {"Records": sqs_records(messages)}, local.stack,
                       local.sandbox.endpoints)
        assert reply["batchItemFailures"] == []
        for m in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_every_event_of_one_webhook_reaches_xero_and_retries_are_processed_once(local):
    tenant = (Tenant().company(3, "Charlie Ltd").contact(31, 3, "Cai", "Ro", billingContact=True)
              .company(4, "Delta Ltd").contact(41, 4, "Dee", "Ro", billingContact=True))
    rt = settle(local, tenant)
    execute_run(rt, build_run(rt, "contacts", None, False), run_contacts)
    sim = local.sandbox.autotask
    register_company_webhook(sim)
    sim.touch("Companies", 3, {"companyName": "Charlie Holdings Ltd"})
    sim.touch("Companies", 4, {"companyName": "Delta Café Ltd"})
    payloads = deliver_to_receiver(local, times=2)
    assert len(payloads) == 2 and len({p["Guid"] for p in payloads}) == 1  # one webhook, one Guid
    drain_into_sync_contacts(local)
    assert [c["Name"] for c in contacts_named(local, "Charlie Holdings Ltd")] == ["Charlie Holdings Ltd"]
    assert [c["Name"] for c in contacts_named(local, "Delta Café Ltd")] == ["Delta Café Ltd"]
    sim.touch("Companies", 4, {"companyName": 'The "Best" Delta Co'})  # a later event of the same webhook
    deliver_to_receiver(local)
    drain_into_sync_contacts(local)
    assert [c["Name"] for c in contacts_named(local, 'The "Best" Delta Co')] == ['The "Best" Delta Co']
    for company in (3, 4):
        runs = [e for e in local.runtime().state.ledger.history("contacts", company) if e.action == "update"]
        assert len(runs) == (1 if company == 3 else 2)  # each event once, its retry recognised
