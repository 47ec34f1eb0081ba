"""`autoxero invoke` runs a function on the running sandbox (its moto, its simulators), never on a stand-in of
its own, and says what went wrong in one line, never with a traceback."""

from __future__ import annotations

import json

from tests.cli.test_cli import cli, served  # noqa: F401 (the module's running sandbox)


def test_a_function_runs_on_the_running_sandbox(served, tmp_path):  # noqa: F811
    rt = served.runtime()
    rt.state.control.pause("ann", "marker: only this sandbox says so")
    event = tmp_path / "contacts.json"
    event.write_text(json.dumps({"flow": "contacts"}))
    result = cli("invoke", "SyncContactsFunction", "--event", str(event))
    assert result.exit_code == 0 and "marker: only this sandbox says so" in result.output, result.output


def test_the_xero_webhook_receiver_enqueues_into_the_running_sandbox(served):  # noqa: F811
    sqs = served.stack.client("sqs")
    url = served.stack.physical["XeroEventsQueue"]
    sqs.purge_queue(QueueUrl=url)
    result = cli("invoke", "XeroWebhookFunction", "--event", "events/xero_webhook.json")
    assert result.exit_code == 0 and '"statusCode": 200' in result.output
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages")


def test_no_running_sandbox_is_one_clear_line(served, tmp_path, monkeypatch):  # noqa: F811
    from autoxero_cli import target as target_module

    monkeypatch.setattr(target_module, "LOCAL_FILE", tmp_path / "missing.json")
    result = cli("invoke", "XeroWebhookFunction", "--event", "events/xero_webhook.json")
    assert result.exit_code == 1 and "sandbox is not running" in result.output and "--with-sandbox" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_failing_handler_is_one_line_not_a_traceback(served, tmp_path):  # noqa: F811
    event = tmp_path / "bad.json"
    event.write_text(json.dumps({"flow": "no-such-flow"}))
    result = cli("invoke", "SyncContactsFunction", "--event", str(event))
    assert result.exit_code == 1 and "SyncContactsFunction failed" in result.output, result.output
    unknown = cli("invoke", "NoSuchFunction", "--event", str(event))
    assert unknown.exit_code == 1 and "no function 'NoSuchFunction'" in unknown.output
