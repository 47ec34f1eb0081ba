"""`autoxero webhooks register autotask` and `webhooks status` against the running sandbox: the simulator's
CompanyWebhooks / ContactWebhooks (sandbox/autotask/README.md, "webhooks") are what Autotask would hold, and
its deliveries reach the stack's receiver through the local gateway, signed with the key the stack keeps."""

from __future__ import annotations

import json

import httpx

from tests.cli.test_cli import cli, served  # noqa: F401 (the module's running sandbox)


def hooks(served, resource: str) -> list[dict]:  # noqa: F811
    return served.sandbox.autotask.state(resource)


def stored_key(served) -> str:  # noqa: F811
    sm = served.stack.client("secretsmanager")
    secret = sm.get_secret_value(SecretId=served.stack.physical["AutotaskWebhookSecret"])["SecretString"]
    return json.loads(secret)["webhook_secret"]


def receiver_url(served) -> str:  # noqa: F811
    from autoxero_cli import target as target_module

    return json.loads(target_module.LOCAL_FILE.read_text())["gateway_url"] + "/webhooks/autotask"


def test_status_before_registering_says_what_to_run(served):  # noqa: F811
    result = cli("webhooks", "status")
    assert result.exit_code == 1
    assert "✗ Autotask webhooks: not active and ready here: CompanyWebhooks, ContactWebhooks" in cli("doctor").output
    assert "no CompanyWebhooks points at this stack" in result.output
    assert "autoxero webhooks register autotask" in result.output


def test_register_creates_both_webhooks_and_a_second_register_updates_them(served):  # noqa: F811
    first = cli("webhooks", "register", "autotask", "--email", "finance@harbourit.example")
    assert first.exit_code == 0, first.output
    assert first.output.count("created") == 2
    url = receiver_url(served)
    [company] = [h for h in hooks(served, "CompanyWebhooks") if h["webhookUrl"] == url]
    [contact] = [h for h in hooks(served, "ContactWebhooks") if h["webhookUrl"] == url]
    for hook in (company, contact):
        assert hook["isActive"] and hook["isReady"] and hook["deactivationUrl"] == url
        assert hook["secretKey"] == stored_key(served)  # the receiver verifies with what Autotask signs with
        assert hook["isSubscribedToCreateEvents"] and hook["isSubscribedToUpdateEvents"]
    contact_fields = hooks(served, "ContactWebhookFields")
    always = [f for f in contact_fields if f["webhookID"] == contact["id"] and f["isDisplayAlwaysField"]]
    assert len(always) == 1  # companyID: the contacts flow needs the company, not another read
    before = {name: len(hooks(served, name)) for name in ("CompanyWebhookFields", "ContactWebhookFields")}

    again = cli("webhooks", "register", "autotask")
    assert again.exit_code == 0 and again.output.count("updated") == 2 and "0 field(s) added" in again.output
    assert len([h for h in hooks(served, "CompanyWebhooks") if h["webhookUrl"] == url]) == 1
    assert len([h for h in hooks(served, "ContactWebhooks") if h["webhookUrl"] == url]) == 1
    assert {name: len(hooks(served, name)) for name in before} == before
    status = cli("webhooks", "status")
    assert status.exit_code == 0 and "active and ready" in status.output
    assert "✓ Autotask webhooks: Company and Contact webhooks point here" in cli("doctor").output


def test_a_company_change_reaches_the_receiver_signed_with_the_stored_key(served):  # noqa: F811
    assert cli("webhooks", "register", "autotask").exit_code == 0
    sim = served.sandbox.autotask
    company = next(c for c in sim.state("Companies") if c["companyType"] == 1 and c["id"] != 0)
    sim.touch("Companies", company["id"], {"companyName": company["companyName"] + " Ltd"})
    report = httpx.post(f"{served.sandbox.autotask_url}/_sandbox/webhooks/deliver", timeout=60).json()
    ours = [e for e in report["events"] if e["url"] == receiver_url(served)]
    assert ours and all(e["last_status"] == 200 for e in ours), ours  # 401 if the keys differed
    sqs = served.stack.client("sqs")
    messages = sqs.receive_message(QueueUrl=served.stack.physical["AutotaskEventsQueue"],
                                   MaxNumberOfMessages=10).get("Messages", [])
    assert any(json.loads(m["Body"])["id"] == company["id"] for m in messages)


def test_rotate_gives_autotask_and_the_stack_the_same_new_key(served):  # noqa: F811
    old = stored_key(served)
    assert cli("webhooks", "register", "autotask", "--rotate").exit_code == 0
    new = stored_key(served)
    assert new != old and 0 < len(new) <= 64
    url = receiver_url(served)
    assert {h["secretKey"] for h in hooks(served, "CompanyWebhooks") + hooks(served, "ContactWebhooks")
            if h["webhookUrl"] == url} == {new}


def test_a_duplicate_left_by_earlier_tools_is_deactivated_not_copied(served):  # noqa: F811
    from sandbox.autotask.schema import ENTITIES
    from sandbox.autotask.simulator import API_RESOURCE_ID

    url = receiver_url(served)
    sim = served.sandbox.autotask
    extra = sim.api_create(ENTITIES["CompanyWebhooks"], {
        "IsActive": True, "Name": "old", "WebhookUrl": url, "DeactivationUrl": url, "SecretKey": "old"},
        resource_id=API_RESOURCE_ID)
    result = cli("webhooks", "register", "autotask")
    assert result.exit_code == 0 and f"[{extra}]" in result.output
    active = [h for h in hooks(served, "CompanyWebhooks") if h["webhookUrl"] == url and h["isActive"]]
    assert len(active) == 1 and active[0]["id"] != extra


def test_mistakes_are_one_clear_line(served, tmp_path, monkeypatch):  # noqa: F811
    from autoxero_cli import target as target_module

    wrong = cli("webhooks", "register", "xero")
    assert wrong.exit_code == 2 and "Xero app" in wrong.output
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setattr(target_module, "SAMCONFIG", tmp_path / "samconfig.toml")
    no_region = cli("webhooks", "register", "autotask", "--stack", "acme-prod")
    assert no_region.exit_code == 1 and "no AWS region for stack 'acme-prod'" in no_region.output
    monkeypatch.setattr(target_module, "LOCAL_FILE", tmp_path / "missing.json")
    stopped = cli("webhooks", "status")
    assert stopped.exit_code == 1 and "sandbox is not running" in stopped.output


def test_an_old_stack_without_the_output_is_told_to_deploy(served, monkeypatch):  # noqa: F811
    monkeypatch.setenv("AWS_ENDPOINT_URL", served.stack.endpoint_url)
    cfn = served.stack.client("cloudformation")
    outputs = {key: {"Value": "x"} for key in ("StateTableName", "XeroSecretArn", "AutotaskSecretArn",
                                                "XeroWebhookSecretArn", "AutotaskWebhookSecretArn")}
    cfn.create_stack(StackName="autoxero-old", TemplateBody=json.dumps({
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Outputs": outputs}))
    result = cli("--region", "us-east-1", "webhooks", "register", "autotask", "--stack", "autoxero-old")
    assert result.exit_code == 1 and "no AutotaskWebhookUrl output" in result.output
