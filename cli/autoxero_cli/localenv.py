"""The local environment: moto standing in for AWS, the sandbox standing in for Autotask and Xero.

`local_aws()` starts moto in server mode (the same HTTP path boto3 takes to AWS) on a free port;
`seed_secrets()` gives the stack's secrets the sandbox's credentials, as `autoxero credentials set` and
`autoxero connect xero` would for a real customer.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from autoxero_cli.local_stack import LocalStack
from autoxero_cli.template import ROOT

DEMO_FIXTURE = ROOT / "sandbox" / "fixtures" / "demo.json"
LOCAL_STACK_NAME = "autoxero-local"
_FAKE_AWS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1"}


def fake_aws_credentials() -> None:
    for key, value in _FAKE_AWS.items():
        os.environ.setdefault(key, value)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def local_aws(port: int | None = None) -> Any:
    """moto in server mode on loopback, for the duration of the block; yields its endpoint URL."""
    fake_aws_credentials()
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port or _free_port(), verbose=False)
    server.start()
    try:
        host, bound = server.get_host_and_port()
        endpoint = f"http://{host}:{bound}"
        # moto keeps its state per process, whichever server or mock created it: start from nothing.
        import httpx

        httpx.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
        yield endpoint
    finally:
        server.stop()


# The sandbox's own credentials (sandbox/fixtures/CONVENTIONS.md); a fixture may override them.
SANDBOX_CREDENTIALS: dict[str, dict[str, str]] = {
    "autotask": {"username": "api@harbourit.example", "secret": "sandbox-autotask-secret",
                 "integration_code": "AUTOXERO-SANDBOX", "webhook_secret": "sandbox-autotask-webhook-secret"},
    "xero": {"client_id": "SANDBOXCLIENTID0000000000000000", "client_secret": "sandbox-xero-client-secret",
             "webhook_key": "sandbox-xero-webhook-key", "tenant_id": "6d8b8a1e-3c2f-4a8e-9f1b-2a7c5d9e0b11",
             "tenant_name": "Harbour IT Ltd"},
}


def sandbox_credentials(fixture: Path = DEMO_FIXTURE) -> dict[str, Any]:
    given = json.loads(fixture.read_text()).get("sandbox", {}) if fixture.exists() else {}
    return {system: {**defaults, **given.get(system, {})} for system, defaults in SANDBOX_CREDENTIALS.items()}


def seed_secrets(stack: LocalStack, credentials: dict[str, Any] | None = None) -> None:
    creds = credentials if credentials is not None else sandbox_credentials()
    sm = stack.client("secretsmanager")
    xero = creds.get("xero", {})
    autotask = creds.get("autotask", {})
    sm.put_secret_value(SecretId=stack.physical["XeroSecret"], SecretString=json.dumps({
        "client_id": xero.get("client_id", ""), "client_secret": xero.get("client_secret", ""),
        "tenant_id": xero.get("tenant_id"),
    }))
    sm.put_secret_value(SecretId=stack.physical["AutotaskSecret"], SecretString=json.dumps({
        "username": autotask.get("username", ""), "secret": autotask.get("secret", ""),
        "integration_code": autotask.get("integration_code", ""),
    }))
    # Each webhook receiver's own secret, where `credentials set` and the Xero connect callback put them.
    sm.put_secret_value(SecretId=stack.physical["XeroWebhookSecret"], SecretString=json.dumps({
        "webhook_key": xero.get("webhook_key", ""), "tenant_id": xero.get("tenant_id") or "",
    }))
    sm.put_secret_value(SecretId=stack.physical["AutotaskWebhookSecret"], SecretString=json.dumps({
        "webhook_secret": autotask.get("webhook_secret", "sandbox-autotask-webhook-secret"),
    }))


def stack_parameters() -> dict[str, str]:
    # ConsoleMfa OFF: the local managed-login stand-in (managed_login.py) signs in with a password and does not
    # simulate MFA; a deployed stack defaults to ON.
    return {"CustomerName": "Local", "AlarmEmail": "finance@example.com", "LedgerRetentionDays": "400",
            "LogLevel": "INFO", "SyncRateMinutes": "15", "PaymentsPollMinutes": "30", "ConsoleMfa": "OFF"}
