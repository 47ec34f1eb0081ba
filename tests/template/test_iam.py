"""The IAM check itself: SAM-expanded policies evaluated for action and resource, and the mutants it must
catch. (The check runs on every test through conftest's `every_aws_call_is_granted`.)"""

from __future__ import annotations

import contextlib
import copy

import pytest

from autoxero_cli import iam

STACK = "acme"
TABLE = "acme-state"
SECRETS = {name: f"arn:aws:secretsmanager:us-east-1:123456789012:secret:acme/{path}-AbCdEf"
           for name, path in {"XeroSecret": "xero", "AutotaskSecret": "autotask",
                              "XeroWebhookSecret": "xero-webhook",
                              "AutotaskWebhookSecret": "autotask-webhook", "ConsoleSecret": "console"}.items()}
TOPIC = "arn:aws:sns:us-east-1:123456789012:acme-alerts"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def resolver(template=None, stack=STACK) -> iam.Resolver:
    physical = {"StateTable": f"{stack}-state", "AlarmTopic": TOPIC, **SECRETS, "AlarmTopicKey.Arn": KEY,
                "XeroEventsQueue.Arn": f"arn:aws:sqs:us-east-1:123456789012:{stack}-xero-events",
                "AutotaskEventsQueue.Arn": f"arn:aws:sqs:us-east-1:123456789012:{stack}-autotask-events",
                "XeroEventsQueue.QueueName": f"{stack}-xero-events",
                "AutotaskEventsQueue.QueueName": f"{stack}-autotask-events"}
    return iam.Resolver(stack, {"CustomerName": "Acme", "AlarmEmail": "a@example.com"}, physical,
                        template or iam.expanded_template())


def table_arn(name=TABLE, index=None) -> str:
    arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/{name}"
    return f"{arn}/index/{index}" if index else arn


def without_action(action: str) -> dict:
    """A mutant template: `action` taken out of every function's policy (as today's product had it)."""
    template = copy.deepcopy(iam.expanded_template())
    for role in iam.function_roles(template).values():
        for policy in template["Resources"][role]["Properties"].get("Policies", []):
            for statement in iam._listed(policy["PolicyDocument"]["Statement"]):
                actions = iam._listed(statement["Action"])
                statement["Action"] = [a for a in actions if a.lower() != action.lower()] or ["none:None"]
    return template


@pytest.mark.parametrize("function", ["SyncContactsFunction", "SyncInvoicesFunction",
                                      "SyncPurchaseOrdersFunction", "SyncPaymentsFunction"])
def test_sync_functions_may_batch_write_their_own_table_only(function):
    policies = iam.policies_for(function, resolver())
    assert policies.allows("dynamodb:BatchWriteItem", table_arn())
    assert policies.allows("dynamodb:Query", table_arn(index="gsi1"))
    assert not policies.allows("dynamodb:BatchWriteItem", table_arn("globex-state"))
    assert not policies.allows("dynamodb:DeleteTable", table_arn())


def test_the_check_catches_a_missing_action():
    mutant = iam.policies_for("SyncInvoicesFunction", resolver(without_action("dynamodb:BatchWriteItem")))
    assert not mutant.allows("dynamodb:BatchWriteItem", table_arn())
    assert mutant.allows("dynamodb:PutItem", table_arn())


def test_the_check_reads_the_resource_not_only_the_action():
    ours = iam.policies_for("SyncInvoicesFunction", resolver())
    theirs = iam.policies_for("SyncInvoicesFunction", resolver(stack="globex"))
    assert ours.allows("dynamodb:PutItem", table_arn())
    assert not theirs.allows("dynamodb:PutItem", table_arn())  # another stack's role, this stack's table


def test_deny_wins_and_conditions_do_not_grant():
    allow = iam.Statement("Allow", ("dynamodb:*",), ("arn:aws:dynamodb:*:*:table/acme-*",), conditional=False)
    deny = iam.Statement("Deny", ("dynamodb:DeleteItem",), ("*",), conditional=False)
    conditional = iam.Statement("Allow", ("sns:Publish",), ("*",), conditional=True)
    policies = iam.FunctionPolicies("F", (allow, deny, conditional))
    assert policies.allows("DynamoDB:PutItem", table_arn())
    assert not policies.allows("dynamodb:DeleteItem", table_arn())
    assert not policies.allows("sns:Publish", TOPIC)


def test_calls_map_to_the_actions_and_resources_iam_authorizes():
    assert iam.calls_of("dynamodb", "BatchWriteItem", {"RequestItems": {TABLE: []}}) == [
        ("dynamodb:BatchWriteItem", table_arn())]
    assert iam.calls_of("dynamodb", "TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": TABLE}}, {"ConditionCheck": {"TableName": TABLE}}]}) == [
        ("dynamodb:PutItem", table_arn()), ("dynamodb:ConditionCheckItem", table_arn())]
    assert iam.calls_of("dynamodb", "Query", {"TableName": TABLE, "IndexName": "gsi1"}) == [
        ("dynamodb:Query", table_arn(index="gsi1"))]
    assert iam.calls_of("secretsmanager", "GetSecretValue", {"SecretId": "acme/xero"},
                        {"acme/xero": SECRETS["XeroSecret"]}) == [
        ("secretsmanager:GetSecretValue", SECRETS["XeroSecret"])]
    assert iam.calls_of("sqs", "SendMessage", {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q"}) == [
        ("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:q")]


def test_every_function_policy_resolves_for_a_stack():
    for function in iam.function_roles():
        for statement in iam.policies_for(function, resolver()).statements:
            assert not any("<unresolved" in r for r in statement.resources), (function, statement)


@pytest.mark.parametrize(("function", "own", "forbidden"), [
    ("XeroWebhookFunction", "XeroWebhookSecret", ("XeroSecret", "AutotaskSecret", "AutotaskWebhookSecret")),
    ("AutotaskWebhookFunction", "AutotaskWebhookSecret", ("XeroSecret", "AutotaskSecret", "XeroWebhookSecret")),
])
def test_webhook_receivers_read_only_their_own_webhook_key(function, own, forbidden):
    policies = iam.policies_for(function, resolver())
    assert policies.allows("secretsmanager:GetSecretValue", SECRETS[own])
    for name in forbidden:
        assert not policies.allows("secretsmanager:GetSecretValue", SECRETS[name]), name
    assert not any(s.covers("secretsmanager:PutSecretValue", "*") or s.covers("dynamodb:GetItem", table_arn())
                   for s in policies.statements)


def test_the_recorder_judges_the_secrets_of_the_stack_it_saw_created_and_no_other(stack):
    """A same-named stack made by another process (e.g. `autoxero console` serving its own) has other secret ARNs:
    its calls cannot be judged against this stack's policy, and are not; this stack's still are."""
    import boto3

    from autoxero_cli.aws_calls import RECORDER, acting_as

    client = boto3.client("secretsmanager", region_name="us-east-1")
    foreign = stack.physical["AutotaskSecret"][:-6] + "zzzzzz"
    start = len(RECORDER.calls)
    with acting_as(stack.name, "XeroWebhookFunction"):
        for secret in (stack.physical["AutotaskSecret"], foreign):
            with contextlib.suppress(client.exceptions.ResourceNotFoundException):
                client.get_secret_value(SecretId=secret)
    denied = [c.resource for c in RECORDER.denied(start)]
    del RECORDER.calls[start:]
    assert denied == [stack.physical["AutotaskSecret"]]


def test_a_call_is_its_function_s_by_the_function_s_physical_name(stack, monkeypatch):
    """Lambda sets AWS_LAMBDA_FUNCTION_NAME to the function's name, which CloudFormation generates
    (<stack>-<logical id>-<random>, cut to 64 characters): the recorder finds the function through the stack's
    physical names, for a long stack name too, and judges the call by that function's policy."""
    import boto3

    from autoxero_cli.aws_calls import RECORDER
    from autoxero_cli.local_stack import LocalStack

    long_stack = LocalStack(name="a" * 100, parameters=dict(stack.parameters)).create()
    client = boto3.client("secretsmanager", region_name="us-east-1")
    for created in (stack, long_stack):
        name = created.function_name("XeroWebhookFunction")
        assert len(name) <= 64 and "XeroWebhook" in name
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", name)
        start = len(RECORDER.calls)
        client.get_secret_value(SecretId=created.physical["XeroWebhookSecret"])
        client.get_secret_value(SecretId=created.physical["AutotaskSecret"])
        calls = RECORDER.calls[start:]
        denied = RECORDER.denied(start)
        del RECORDER.calls[start:]
        assert {(c.stack, c.function) for c in calls} == {(created.name, "XeroWebhookFunction")}
        assert [c.resource for c in denied] == [created.physical["AutotaskSecret"]]
