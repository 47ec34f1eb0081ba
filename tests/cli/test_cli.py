"""Every CLI command against a running local sandbox (moto server + simulators + gateway), and its errors:
one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from autoxero_cli import target as target_module
from autoxero_cli.gateway import serve_gateway
from autoxero_cli.local import LocalDeployment
from autoxero_cli.localenv import local_aws
from autoxero_cli.main import app
from sandbox.server import Sandbox

runner = CliRunner()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    import os

    state_file = tmp_path_factory.mktemp("autoxero") / "local.json"
    saved = target_module.LOCAL_FILE
    saved_environment = dict(os.environ)  # the local target points AWS_ENDPOINT_URL at this module's moto
    target_module.LOCAL_FILE = state_file
    with local_aws() as endpoint, Sandbox.start() as box:
        local = LocalDeployment.create(box, endpoint)
        gateway = serve_gateway(local.stack, box.endpoints)
        target_module.write_local({"aws_endpoint": endpoint, "autotask_url": box.autotask_url,
                                   "xero_url": box.xero_url, "gateway_url": gateway.url,
                                   "stack": local.stack.name, "environment": local.environment()}, state_file)
        yield local
        gateway.stop()
    target_module.LOCAL_FILE = saved
    os.environ.clear()
    os.environ.update(saved_environment)


def cli(*args: str, input: str | None = None):
    result = runner.invoke(app, list(args), input=input)
    assert "Traceback" not in result.output, result.output
    return result


def test_the_user_journey(served, tmp_path):
    assert "Connected to Xero organisation 'Harbour IT Ltd'" in cli("connect", "xero").output
    proposal = tmp_path / "settings.yaml"
    suggested = cli("settings", "suggest", "--out", str(proposal))
    assert suggested.exit_code == 0 and "OUTPUT2" in proposal.read_text()
    assert "start_date: '2026-12-01'" in proposal.read_text() or "start_date:" in proposal.read_text()
    # the sandbox's invoices are from August to October 2026: send that history too, as a person may choose
    proposal.write_text(re.sub(r"start_date: .*", "start_date: '2026-08-01'", proposal.read_text()))
    assert cli("settings", "validate", str(proposal)).exit_code == 0
    assert "+    mode: mapped" in cli("settings", "diff", str(proposal)).output
    assert "version 1" in cli("settings", "push", str(proposal)).output
    paused = cli("sync", "contacts")
    assert paused.exit_code == 1 and "paused" in paused.output
    assert "paused" in cli("status").output
    assert cli("resume", "--by", "tests").exit_code == 0
    assert "mode: mapped" in cli("settings", "show").output

    dry = cli("sync", "contacts", "--dry-run")
    assert dry.exit_code == 0 and "create contact" in dry.output
    assert served.sandbox.xero.state("Contacts") and len(served.sandbox.xero.state("Contacts")) == 6  # nothing written
    assert cli("sync", "contacts").exit_code == 0
    assert cli("sync", "invoices").exit_code == 0

    listed = cli("attention", "list")
    assert "need attention" in listed.output and "Pohutukawa" in listed.output
    explained = cli("attention", "explain", "contacts", "29683502")
    assert "What to change" in explained.output
    retried = cli("attention", "retry", "contacts", "29683502")
    assert "still need attention" in retried.output  # the conflict is still there, so it comes back
    assert "resolved" in cli("attention", "resolve", "contacts", "29683503").output

    status = cli("status")
    assert "contacts" in status.output and "Harbour IT Ltd" in status.output and "calls left" in status.output
    assert cli("sync", "purchase_orders").exit_code == 0  # due POs not yet sent would be reconcile problems
    reconciled = cli("reconcile", "--out", str(tmp_path))
    assert reconciled.exit_code == 0 and (tmp_path / "reconciliation.md").exists()
    resynced = cli("resync", "invoice", "24005")
    assert resynced.exit_code == 0 and "synced" in resynced.output
    by_number = cli("resync", "invoice", "INV-10005")
    assert by_number.exit_code == 0 and "invoice INV-10005: synced" in by_number.output
    assert len([i for i in served.sandbox.xero.state("Invoices") if i.get("InvoiceNumber") == "INV-10005"]) == 1


def test_pause_skip_and_unskip_by_invoice_number(served):
    paused = cli("pause", "--reason", "month-end close", "--by", "ann")
    assert paused.exit_code == 0 and "paused by ann" in paused.output
    status = cli("status")
    assert "paused by ann" in status.output and "month-end close" in status.output
    stopped = cli("sync", "invoices")
    assert stopped.exit_code == 1 and "nothing was written" in stopped.output
    assert cli("resume", "--by", "ann").exit_code == 0

    skipped = cli("attention", "skip", "invoices", "INV-10007", "--reason", "entered by hand", "--by", "ann")
    assert skipped.exit_code == 0 and "Invoice INV-10007" in skipped.output
    rt = served.runtime()
    [record] = rt.state.attention.skipped("invoices")
    assert record.reason == "entered by hand" and record.by == "ann"
    assert rt.autotask_client().get("Invoices", int(record.record_id))["invoiceNumber"] == "INV-10007"
    assert "INV-10007: entered by hand" in cli("status").output
    assert cli("attention", "unskip", "invoices", "INV-10007").exit_code == 0
    assert rt.state.attention.skipped() == []


def test_a_stack_without_a_region_is_refused_clearly(served, monkeypatch, tmp_path):
    from autoxero_cli import target as target_module

    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setattr(target_module, "SAMCONFIG", tmp_path / "samconfig.toml")
    result = cli("status", "--stack", "acme-prod")
    assert result.exit_code == 1 and "no AWS region for stack 'acme-prod'" in result.output
    assert "--region" in result.output


def test_the_region_comes_from_samconfig_for_its_stack(tmp_path, monkeypatch):
    from autoxero_cli.target import stack_region

    config = tmp_path / "samconfig.toml"
    config.write_text('[acme.deploy.parameters]\nstack_name = "autoxero-acme"\nregion = "eu-west-2"\n'
                      '[default.deploy.parameters]\nregion = "ap-southeast-2"\n')
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert stack_region("autoxero-acme", None, config) == "eu-west-2"
    assert stack_region("autoxero-acme", "ca-central-1", config) == "ca-central-1"
    assert stack_region("other", None, config) == "us-east-1"
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    assert stack_region("other", None, config) == "ap-southeast-2"


@pytest.mark.parametrize(("args", "message"), [
    (("sync", "nope"), "unknown flow 'nope'"),
    (("sync", "invocies"), "did you mean 'invoices'"),
    (("attention", "skip", "invoices", "INV-99999", "--reason", "x"), "Autotask has no invoice numbered 'INV-99999'"),
    (("attention", "skip", "invoice", "INV-10005", "--reason", "x"), "did you mean 'invoices'"),
    (("attention", "unskip", "invoices", "24001"), "was not skipped"),
    (("settings", "validate", "/no/such/file.yaml"), "does not exist"),
    (("attention", "explain", "invoices", "999999"), "no attention item"),
    (("resync", "invoice", "1"), "Autotask has no invoice 1"),
    (("resync", "invoice", "INV-99999"), "Autotask has no invoice numbered 'INV-99999'"),
    (("attention", "explain", "invoices", "INV-99999"), "Autotask has no invoice numbered 'INV-99999'"),
    (("credentials", "set", "ledger"), "unknown system"),
])
def test_errors_are_one_clear_line(served, args, message):
    result = cli(*args)
    assert result.exit_code != 0 and message in result.output


def test_bad_settings_file_names_the_field(served, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("invoices:\n  status: PAID\n")
    result = cli("settings", "push", str(bad))
    assert result.exit_code == 1 and "invoices.status" in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("invoices: [unclosed\n")
    assert "not valid YAML" in cli("settings", "validate", str(broken)).output


def test_autotask_credentials_are_checked_before_saving(served):
    wrong = cli("credentials", "set", "autotask", "--username", "api@harbourit.example",
                "--integration-code", "AUTOXERO-SANDBOX", input="wrong-secret\n\n")
    assert wrong.exit_code == 1 and "refused" in wrong.output and "wrong-secret" not in wrong.output
    right = cli("credentials", "set", "autotask", "--username", "api@harbourit.example",
                "--integration-code", "AUTOXERO-SANDBOX", input="sandbox-autotask-secret\n\n")
    assert right.exit_code == 0 and "checked and saved" in right.output


def test_webhook_keys_land_where_the_webhook_receivers_read_them(served):
    """The internet-facing receivers read only their own secret (template.yaml): `credentials set` must put
    each webhook key there, and never into the API credentials' secret."""
    sm = served.stack.client("secretsmanager")

    def read(logical_id: str) -> dict:
        return json.loads(sm.get_secret_value(SecretId=served.stack.physical[logical_id])["SecretString"])

    xero = cli("credentials", "set", "xero", "--client-id", "SANDBOXCLIENTID0000000000000000",
               input="sandbox-xero-client-secret\nsandbox-xero-webhook-key\n")
    assert xero.exit_code == 0, xero.output
    assert read("XeroWebhookSecret")["webhook_key"] == "sandbox-xero-webhook-key"
    assert "webhook_key" not in read("XeroSecret")
    autotask = cli("credentials", "set", "autotask", "--username", "api@harbourit.example",
                   "--integration-code", "AUTOXERO-SANDBOX", input="sandbox-autotask-secret\nhook-key-from-cli\n")
    assert autotask.exit_code == 0, autotask.output
    assert read("AutotaskWebhookSecret")["webhook_secret"] == "hook-key-from-cli"
    assert "webhook_secret" not in read("AutotaskSecret")
    cli("credentials", "set", "autotask", "--username", "api@harbourit.example", "--integration-code",
        "AUTOXERO-SANDBOX", input="sandbox-autotask-secret\nsandbox-autotask-webhook-secret\n")  # as seeded


def test_no_sandbox_and_no_stack_are_clear(served, tmp_path, monkeypatch):
    monkeypatch.setattr(target_module, "LOCAL_FILE", tmp_path / "missing.json")
    result = cli("status")
    assert result.exit_code == 1 and "sandbox is not running" in result.output
    # CloudFormation here is moto's (in server mode: no in-process mock that would reset the others' state)
    monkeypatch.setenv("AWS_ENDPOINT_URL", served.stack.endpoint_url)
    missing = cli("status", "--stack", "acme-prod")
    assert missing.exit_code == 1 and "stack 'acme-prod' was not found" in missing.output


def test_connect_from_a_laptop_through_the_loopback(served, monkeypatch):
    """The laptop flow: the 'browser' follows Xero's consent redirect to the CLI's loopback callback."""
    import socket
    import threading

    import httpx

    from autoxero_cli import loopback
    from autoxero_cli.target import Target

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def browser(url: str) -> None:
        threading.Thread(target=lambda: httpx.get(url, follow_redirects=True, timeout=30), daemon=True).start()

    monkeypatch.setattr(loopback, "open_browser", browser)
    real_local = target_module._local

    def as_deployed(path=None):  # the local deployment, seen the way a deployed stack is
        found = real_local(path)
        return Target("acme", found.config)

    monkeypatch.setattr(target_module, "_local", as_deployed)
    result = cli("connect", "xero", "--port", str(port))
    assert result.exit_code == 0, result.output
    assert "Connected to Xero organisation 'Harbour IT Ltd'" in result.output


def test_connect_refuses_an_approval_of_several_organisations(served):
    """The local path makes the same checks as the stack's own endpoint: one approval, one organisation."""
    xero = served.sandbox.xero
    other = "0f0e0d0c-0b0a-4909-8807-060504030201"
    xero.add_tenant(other, "Another Customer Ltd")
    xero.auth.consent_tenants = [xero.tenant_id, other]
    try:
        result = cli("connect", "xero")
    finally:
        xero.auth.consent_tenants = None
        xero.remove_tenant(other)
    assert result.exit_code == 1 and "2 Xero organisations" in result.output
    assert "Nothing was changed" in result.output


def test_sandbox_serve_is_found_by_other_commands(tmp_path):
    """`autoxero sandbox serve` in one terminal, `autoxero status` in another, then Ctrl-C."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from autoxero_cli.template import ROOT

    local_file = tmp_path / "local.json"
    env = {**os.environ, "COLUMNS": "200", "AUTOXERO_LOCAL_FILE": str(local_file)}
    server = subprocess.Popen([sys.executable, "-m", "autoxero_cli", "sandbox", "serve"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while not local_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert local_file.exists(), "sandbox serve did not start"
        status = subprocess.run([sys.executable, "-m", "autoxero_cli", "status"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120, check=False)
        assert status.returncode == 0, status.stdout + status.stderr
        assert "Xero: not connected" in status.stdout
        second = subprocess.run([sys.executable, "-m", "autoxero_cli", "sandbox", "serve"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120, check=False)
        assert second.returncode == 1 and "a sandbox is already running" in second.stderr
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)
    assert "Xero sandbox:" in output and "Autotask sandbox:" in output
    assert not local_file.exists()  # it tidies up after itself


def test_settings_are_checked_against_the_live_systems_with_lines_and_hints(served, tmp_path):
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("invoices:\n"
                     "  start_date: '2026-12-01'\n"
                     "  default_account_code: '2000'\n"
                     "  branding_by_template:\n"
                     "    '101': Standerd\n"
                     "purchase_orders:\n"
                     "  default_account_code: '200'\n"
                     "contacts:\n"
                     "  biling_contact_udf: Billing Contact\n")
    checked = cli("settings", "validate", str(wrong))
    assert checked.exit_code == 1
    # the typo'd key is a document problem, reported before anything is read from the live systems
    assert f"{wrong}:9: contacts.biling_contact_udf: unknown setting; did you mean 'billing_contact_udf'?" \
        in checked.output
    wrong.write_text(wrong.read_text().replace("biling_contact_udf", "billing_contact_udf"))
    before = served.runtime().state.settings.load()[1]
    pushed = cli("settings", "push", str(wrong))
    assert pushed.exit_code == 1 and "3 problem(s)" in pushed.output and "nothing was saved" in pushed.output
    assert f"{wrong}:3: invoices.default_account_code: account '2000' does not exist in Xero; did you mean '200'" \
        in pushed.output
    assert f"{wrong}:5: invoices.branding_by_template.101: branding theme 'Standerd'" in pushed.output
    assert f"{wrong}:7: purchase_orders.default_account_code: account 200 (Sales) is a REVENUE account" \
        in pushed.output
    assert served.runtime().state.settings.load()[1] == before


def test_push_records_who_and_skips_an_identical_version(served, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("invoices:\n  start_date: '2026-08-01'\n  status: AUTHORISED\n")
    first = cli("settings", "push", str(good), "--by", "ann@example.com")
    assert first.exit_code == 0 and "(by ann@example.com)" in first.output
    rt = served.runtime()
    version = rt.state.settings.load()[1]
    assert rt.state.table.get({"pk": "SETTINGS#current", "sk": "SETTINGS"})["author"] == "ann@example.com"
    again = cli("settings", "push", str(good), "--by", "bob")
    assert again.exit_code == 0 and f"identical to version {version}; nothing saved" in again.output
    assert rt.state.settings.load()[1] == version


def test_a_bad_yaml_file_names_its_line(served, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("invoices:\n  start_date: '2026-08-01'\n  status: [unclosed\n")
    result = cli("settings", "validate", str(broken))
    assert result.exit_code == 1 and f"{broken}:4 is not valid YAML" in result.output


def test_validate_with_the_sandbox_stopped_says_so(served, tmp_path, monkeypatch):
    monkeypatch.setattr(target_module, "LOCAL_FILE", tmp_path / "missing.json")
    good = tmp_path / "good.yaml"
    good.write_text("invoices:\n  start_date: '2026-08-01'\n")
    result = cli("settings", "validate", str(good))
    assert result.exit_code == 1 and "sandbox is not running" in result.output
    assert cli("settings", "validate", str(good), "--offline").exit_code == 0


def test_doctor_against_the_sandbox_names_what_to_fix(served):
    served.connect_xero_directly()
    rt = served.runtime()
    result = cli("doctor")
    lines = result.output.splitlines()
    assert any(line.startswith("✓ Autotask zone and credentials") for line in lines), result.output
    assert any(line.startswith("✓ Autotask API user can update Invoices") for line in lines)
    assert any(line.startswith("✓ billing-contact field") for line in lines)
    assert any(line.startswith("✓ Xero scopes") for line in lines)
    assert any(line.startswith("✓ Xero webhook key") for line in lines), result.output  # in its own secret
    assert any(line.startswith("✓ Autotask hourly request budget") for line in lines)
    paused = rt.state.control.paused()
    assert any(line.startswith("✗ stack: paused" if paused else "✓ stack: active") for line in lines)

    good = rt.secrets.read(rt.config.autotask_secret_id)
    rt.secrets.update(rt.config.autotask_secret_id, {**good, "secret": "wrong-secret"})
    try:
        broken = cli("doctor")
    finally:
        rt.secrets.update(rt.config.autotask_secret_id, good)
    assert broken.exit_code == 1 and "✗ Autotask zone and credentials" in broken.output
    assert "fix: check the API user name, secret" in broken.output and "wrong-secret" not in broken.output
