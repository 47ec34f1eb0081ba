"""Alerts (SNS) a finance person receives, and Autotask company webhooks reaching Xero within seconds."""

from __future__ import annotations

import json
import time
from pathlib import Path

from autoxero.secrets import SecretStore
from autoxero.sync.build import build_run, execute_run, watch_connection
from autoxero.sync.contacts import run_contacts
from autoxero.sync.invoices import run_invoices
from autoxero.webhooks import autotask_signature
from autoxero_cli.invoke import invoke
from sandbox.fixtures.builder import NO_EXTERNAL, STANDARD, SUPPORT, Tenant
from tests.flows.test_autotask_webhook_events import sqs_records
from tests.flows.test_invoice_rules import contacts_named, settle


def subscribe(local) -> str:
    """An SQS queue subscribed to the stack's alert topic, to read what would be e-mailed."""
    sqs, sns = local.stack.client("sqs"), local.stack.client("sns")
    url = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=local.stack.physical["AlarmTopic"], Protocol="sqs", Endpoint=arn)
    return url


def inbox(local, url: str) -> list[dict]:
    messages = local.stack.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_new_attention_items_are_announced_once(local):
    tenant = (Tenant().company(1, "Alpha Ltd").invoice(10, 1, "A-1", [(1, 10, STANDARD, SUPPORT)])
              .invoice(11, 1, "A-2", [(1, 10, STANDARD, NO_EXTERNAL)]))
    rt = settle(local, tenant, {"invoices": {"default_account_code": "999"}})
    url = subscribe(local)
    execute_run(rt, build_run(rt, "invoices", None, False), run_invoices)
    [mail] = inbox(local, url)  # one digest for the run
    assert "1 invoices record(s) need a change" in mail["Subject"]
    assert "1. Invoice A-2 (Alpha Ltd)" in mail["Message"]  # the number and the customer
    assert "What is wrong:" in mail["Message"] and "What to change:" in mail["Message"]
    execute_run(rt, build_run(rt, "invoices", None, False), run_invoices)  # the same problem again
    assert inbox(local, url) == []


def test_a_connection_unused_for_45_days_is_warned_about(local):
    rt = settle(local, Tenant().company(2, "Bravo Ltd"))
    url = subscribe(local)
    assert watch_connection(rt, "invoices") < 1 and inbox(local, url) == []
    store = SecretStore(local.stack.client("secretsmanager"))
    store.update(local.stack.physical["XeroSecret"], {"refreshed_at": int(time.time() - 50 * 86400)})
    rt = local.runtime()
    assert watch_connection(rt, "invoices") > 49
    [mail] = inbox(local, url)
    assert "ends in about 10 days" in mail["Subject"] and "60 days" in mail["Message"]
    assert "autoxero connect xero" in mail["Message"] and "held back" not in mail["Message"]  # not a digest
    assert watch_connection(rt, "invoices") > 49 and inbox(local, url) == []  # runs every few minutes: one a day


def test_company_webhook_reaches_xero_once(local):
    tenant = Tenant().company(3, "Charlie Ltd").contact(31, 3, "Cai", "Ro", billingContact=True)
    rt = settle(local, tenant)
    execute_run(rt, build_run(rt, "contacts", None, False), run_contacts)
    local.sandbox.autotask.touch("Companies", 3, {"companyName": "Charlie Holdings Ltd"})
    body = json.dumps({"Action": "Update", "Guid": "guid-3", "EntityType": "Company", "Id": 3,
                       "Fields": {"CompanyName": "Charlie Holdings Ltd"}, "EventTime": "2026-11-26T08:00:00Z",
                       "SequenceNumber": 1})
    event = json.loads(Path("events/autotask_webhook.json").read_text())
    event.update(body=body, headers={"X-Hook-Signature": autotask_signature("sandbox-autotask-webhook-secret",
                                                                            body.encode())})
    for _ in range(2):  # Autotask retries deliveries: the same event twice
        assert invoke("AutotaskWebhookFunction", event, local.stack, local.sandbox.endpoints)["statusCode"] == 200
    sqs = local.stack.client("sqs")
    url = local.stack.physical["AutotaskEventsQueue"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 2
    reply = invoke("SyncContactsFunction", {"Records": sqs_records(messages)}, local.stack, local.sandbox.endpoints)
    assert reply["batchItemFailures"] == []
    assert [c["Name"] for c in contacts_named(local, "Charlie Holdings Ltd")] == ["Charlie Holdings Ltd"]
    updates = [e for e in rt.state.ledger.history("contacts", 3) if e.action == "update"]
    assert len(updates) == 1  # the duplicate event names the same company: synced once
