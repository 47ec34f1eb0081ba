"""Writes the sample events (one per function) with signatures valid for the sandbox's keys.

Run `python events/make_events.py` after changing a key or a body; the JSON files are committed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from autoxero.webhooks import autotask_signature, xero_signature
from autoxero_cli.localenv import LOCAL_STACK_NAME
from autoxero_cli.names import generated_name, local_suffix

HERE = Path(__file__).parent
XERO_WEBHOOK_KEY = "sandbox-xero-webhook-key"
AUTOTASK_WEBHOOK_SECRET = "sandbox-autotask-webhook-secret"  # noqa: S105 (the sandbox's, not a real one)
TENANT_ID = "6d8b8a1e-3c2f-4a8e-9f1b-2a7c5d9e0b11"


def queue_arn(logical_id: str) -> str:
    """The local stack's queue, named as CloudFormation names it (cli/autoxero_cli/names.py)."""
    name = generated_name(LOCAL_STACK_NAME, logical_id, local_suffix(LOCAL_STACK_NAME, logical_id), 80)
    return f"arn:aws:sqs:us-east-1:123456789012:{name}"


def api_event(method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None,
              query: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "resource": path, "path": path, "httpMethod": method,
        "headers": {"Host": "127.0.0.1:3000", "Content-Type": "application/json", **(headers or {})},
        "multiValueHeaders": {}, "queryStringParameters": query, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None, "isBase64Encoded": False, "body": body,
        "requestContext": {"resourcePath": path, "httpMethod": method, "path": f"/live{path}", "stage": "live",
                           "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "accountId": "123456789012",
                           "identity": {"sourceIp": "127.0.0.1"}},
    }


def main() -> None:
    xero_body = json.dumps({"events": [{
        "resourceUrl": "https://api.xero.com/api.xro/2.0/Invoices/0032e1f5-a3b1-4cd7-8d0f-2e7d43c2b6a1",
        "resourceId": "0032e1f5-a3b1-4cd7-8d0f-2e7d43c2b6a1", "eventDateUtc": "2026-11-26T08:00:00.000",
        "eventType": "UPDATE", "eventCategory": "INVOICE", "tenantId": TENANT_ID, "tenantType": "ORGANISATION"}],
        "firstEventSequence": 1, "lastEventSequence": 1, "entropy": "QWERTYUIOPASDFGHJKLZ"}, separators=(",", ":"))
    autotask_body = json.dumps({"Action": "Update", "Guid": "7f3c1b7e-9d1e-4c55-8a7e-4a2b9f0c1d22",
                                "EntityType": "Company", "Id": 29683, "Fields": {"CompanyName": "Kauri Accounting Ltd"},
                                "EventTime": "2026-11-26T08:00:00.000Z", "SequenceNumber": 17, "PersonID": 29682},
                               separators=(",", ":"))
    events = {
        "schedule_contacts.json": {"flow": "contacts"},
        "schedule_invoices.json": {"flow": "invoices"},
        "schedule_purchase_orders.json": {"flow": "purchase_orders"},
        "schedule_payments.json": {"flow": "payments"},
        "xero_webhook.json": api_event("POST", "/webhooks/xero", xero_body,
                                       {"x-xero-signature": xero_signature(XERO_WEBHOOK_KEY, xero_body.encode())}),
        "autotask_webhook.json": api_event("POST", "/webhooks/autotask", autotask_body,
                                           {"X-Hook-Signature": autotask_signature(AUTOTASK_WEBHOOK_SECRET,
                                                                                   autotask_body.encode())}),
        "xero_connect.json": api_event("GET", "/xero/connect", query={"setup_token": "replace-with-setup-token"}),
        "xero_connect_callback.json": api_event("GET", "/xero/callback",
                                                query={"code": "sandbox-code", "state": "replace-with-state"}),
        "sqs_xero_events.json": {"Records": [{
            "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d", "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
            "body": json.dumps({"source": "xero", "category": "INVOICE", "resource_id":
                                "0032e1f5-a3b1-4cd7-8d0f-2e7d43c2b6a1", "event_type": "UPDATE",
                                "event_date": "2026-11-26T08:00:00.000", "tenant_id": TENANT_ID}, sort_keys=True),
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795680000000"},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn("XeroEventsQueue"),
            "awsRegion": "us-east-1"}]},
        "sqs_autotask_events.json": {"Records": [{
            "messageId": "2e1424d4-f796-459a-8184-9c92662be6da", "receiptHandle": "AQEBzWwaftRI0KuVm4tP+/7q1rGgNqicHq",
            "body": json.dumps({"source": "autotask", "entity": "Company", "id": 29683, "action": "Update",
                                "guid": "7f3c1b7e-9d1e-4c55-8a7e-4a2b9f0c1d22", "company_id": None}, sort_keys=True),
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795680000000"},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn("AutotaskEventsQueue"),
            "awsRegion": "us-east-1"}]},
    }
    for name, event in events.items():
        (HERE / name).write_text(json.dumps(event, indent=2) + "\n")


if __name__ == "__main__":
    main()
