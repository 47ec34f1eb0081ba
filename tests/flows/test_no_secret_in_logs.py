"""No secret at any log level: with LogLevel=DEBUG every logger in the process writes (botocore prints
GetSecretValue response bodies, urllib3 and httpx their requests), through a root handler like the Lambda
runtime's and through autoxero's own JSON logger, tracebacks included. No credential or live token may
appear in any of it."""

from __future__ import annotations

import base64
import io
import json
import logging
import time
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest

from autoxero import redaction
from autoxero.observability import logger
from autoxero.webhooks import autotask_signature, xero_signature
from autoxero_cli.invoke import invoke
from autoxero_cli.localenv import sandbox_credentials

EVENT = json.loads((Path(__file__).parents[2] / "events" / "xero_webhook.json").read_text())


@contextmanager
def everything_at_debug():
    """DEBUG on every logger: a plain root handler as the Lambda runtime installs before the function's code
    is imported (so the product wraps it, as at import), and autoxero's JSON logger."""
    stream = io.StringIO()
    root = logging.getLogger()
    runtime_handler = logging.StreamHandler(stream)
    ours = logging.StreamHandler(stream)
    ours.setFormatter(logger.registered_formatter)
    saved = root.level, logger.log_level
    root.addHandler(runtime_handler)
    root.setLevel(logging.DEBUG)
    logger._logger.addHandler(ours)
    logger.setLevel("DEBUG")
    redaction.redact_every_record()
    try:
        yield stream
    finally:
        root.removeHandler(runtime_handler)
        logger._logger.removeHandler(ours)
        root.setLevel(saved[0])
        logger.setLevel(saved[1])


def forget_registered_secrets() -> None:
    """Earlier tests registered these values already; start from nothing, as a fresh Lambda container does."""
    with redaction._lock:
        redaction._secrets.clear()


def secret_values(local) -> dict[str, str]:
    creds = sandbox_credentials()
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    token = json.loads(sm.get_secret_value(SecretId=local.stack.physical["XeroSecret"])["SecretString"])["token_set"]
    return {"xero client secret": creds["xero"]["client_secret"], "xero webhook key": creds["xero"]["webhook_key"],
            "autotask secret": creds["autotask"]["secret"], "autotask webhook key": creds["autotask"]["webhook_secret"],
            "xero access token": token["access_token"], "xero refresh token": token["refresh_token"],
            "xero basic auth": base64.b64encode(
                f"{creds['xero']['client_id']}:{creds['xero']['client_secret']}".encode()).decode()}


def expire_xero_token(local) -> None:
    """So the run refreshes it: the new access and refresh tokens are live secrets too."""
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    secret_id = local.stack.physical["XeroSecret"]
    value = json.loads(sm.get_secret_value(SecretId=secret_id)["SecretString"])
    value["token_set"]["expires_at"] = time.time() - 60
    sm.put_secret_value(SecretId=secret_id, SecretString=json.dumps(value))


def webhook_event(path: str, body: str, headers: dict[str, str]) -> dict:
    return {**EVENT, "path": path, "resource": path, "body": body, "isBase64Encoded": False,
            "headers": {"Content-Type": "application/json", **headers}}


def run_everything(local) -> None:
    env = {**local.sandbox.endpoints, "POWERTOOLS_LOG_LEVEL": "DEBUG"}
    invoke("SyncContactsFunction", {"flow": "contacts"}, local.stack, env)
    invoke("SyncInvoicesFunction", {"flow": "invoices"}, local.stack, env)
    creds = sandbox_credentials()
    body = json.dumps({"events": [], "firstEventSequence": 1, "lastEventSequence": 1, "entropy": "ABCDEFGHIJ"})
    invoke("XeroWebhookFunction", webhook_event("/webhooks/xero", body, {
        "x-xero-signature": xero_signature(creds["xero"]["webhook_key"], body.encode())}), local.stack, env)
    body = json.dumps({"Action": "Update", "Guid": "g-1", "EntityType": "Company", "Id": 1, "Fields": {}})
    invoke("AutotaskWebhookFunction", webhook_event("/webhooks/autotask", body, {
        "X-Hook-Signature": autotask_signature(creds["autotask"]["webhook_secret"], body.encode())}), local.stack, env)
    # A traceback whose message carries a secret, from autoxero's logger and from a third-party one.
    try:
        raise RuntimeError(f"refused: {creds['autotask']['secret']} / {creds['xero']['client_secret']}")
    except RuntimeError:
        logger.exception("a step failed")
        logging.getLogger("urllib3.connectionpool").exception("a step failed")


def test_botocore_debug_prints_secret_values_without_redaction(aws, stack):
    """The threat is real: botocore's DEBUG log carries GetSecretValue's body, so a plain handler gets it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    botocore_log = logging.getLogger("botocore")
    saved_factory, saved_level = logging.getLogRecordFactory(), botocore_log.level
    logging.setLogRecordFactory(logging.LogRecord)  # the process without autoxero's redaction
    botocore_log.addHandler(handler)
    botocore_log.setLevel(logging.DEBUG)
    try:
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        sm.put_secret_value(SecretId=stack.physical["XeroSecret"], SecretString='{"client_secret": "plain-sight-42"}')
        sm.get_secret_value(SecretId=stack.physical["XeroSecret"])
    finally:
        logging.setLogRecordFactory(saved_factory)
        botocore_log.removeHandler(handler)
        botocore_log.setLevel(saved_level)
    assert "plain-sight-42" in stream.getvalue()
    assert "Response body" in stream.getvalue()


@pytest.mark.timeout(600)
def test_no_secret_or_live_token_at_debug(local):
    expire_xero_token(local)
    forget_registered_secrets()
    with everything_at_debug() as stream:
        run_everything(local)
    text = stream.getvalue()
    assert "Response body" in text and "GetSecretValue" in text  # botocore did log at DEBUG
    assert "Traceback" in text and '"exception"' in text
    leaked = {name for name, value in secret_values(local).items() if value in text}
    assert not leaked, f"written to the logs: {sorted(leaked)}"
