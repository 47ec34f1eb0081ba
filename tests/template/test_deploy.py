"""Template rules AWS enforces at deploy or run time that cfn-lint and `sam validate` do not check; each cites
the AWS page it comes from."""

from __future__ import annotations

import json
import logging

import pytest

from autoxero.xero import connect
from autoxero_cli import iam, names
from autoxero_cli.template import load_template


def resources_of(kind: str) -> dict[str, dict]:
    return {k: v for k, v in iam.expanded_template()["Resources"].items() if v["Type"] == kind}


def test_schedule_names_differ_between_stacks():
    """A schedule's name is unique within its group, and CreateSchedule answers ConflictException otherwise
    (https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html). Without a Name,
    CloudFormation generates <stack>-<logical id>-<random>, different for every stack ("Name type",
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html)."""
    schedules = resources_of("AWS::Scheduler::Schedule")
    assert len(schedules) == 5
    for stack in ("acme", "globex"):
        resolver = iam.Resolver(stack, {}, {})
        names_given = [resolver.value(s["Properties"]["Name"]) for s in schedules.values() if "Name" in s["Properties"]]
        assert all(isinstance(n, str) and n.startswith(f"{stack}-") for n in names_given), names_given


def test_log_levels_are_valid_lambda_application_log_levels():
    """Lambda's LoggingConfig.ApplicationLogLevel takes TRACE, DEBUG, INFO, WARN, ERROR or FATAL
    (https://docs.aws.amazon.com/lambda/latest/api/API_LoggingConfig.html); Powertools passes the same value
    to Python's logging."""
    allowed = load_template()["Parameters"]["LogLevel"]["AllowedValues"]
    for level in allowed:
        assert level in {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}, level
        assert isinstance(logging.getLevelName(level), int), level


def test_no_reserved_concurrency_and_sqs_triggers_capped_on_the_trigger():
    """Throttled SQS batches go back to the queue after the visibility timeout and count toward
    maxReceiveCount; the trigger's MaximumConcurrency (2 to 1000) caps the poller instead
    (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html)."""
    for logical_id, function in resources_of("AWS::Lambda::Function").items():
        assert "ReservedConcurrentExecutions" not in function["Properties"], logical_id
    mappings = resources_of("AWS::Lambda::EventSourceMapping")
    assert mappings
    for logical_id, mapping in mappings.items():
        assert 2 <= mapping["Properties"]["ScalingConfig"]["MaximumConcurrency"] <= 1000, logical_id


def test_the_api_has_only_its_live_stage():
    """Without OpenApiVersion SAM adds a stage named "Stage"
    (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-api.html)."""
    for logical_id, deployment in resources_of("AWS::ApiGateway::Deployment").items():
        assert "StageName" not in deployment["Properties"], logical_id
    assert {s["Properties"]["StageName"] for s in resources_of("AWS::ApiGateway::Stage").values()} == {"live"}


def test_the_xero_callback_can_fail_in_time():
    """API Gateway ends a REST integration after 29 s
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html); the function's timeout must sit
    under it and above the callback's slowest path (HTTP timeouts and the lease wait), with room for the
    DynamoDB and Secrets Manager calls, so a slow Xero gets an answer, not a cut-off."""
    timeout = int(resources_of("AWS::Lambda::Function")["XeroConnectFunction"]["Properties"]["Timeout"])
    assert connect.CALLBACK_WORST_CASE_SECONDS + 3 <= timeout <= 29


def test_the_idle_connection_alarm_watches_this_stack_only():
    alarm = resources_of("AWS::CloudWatch::Alarm")["XeroConnectionIdleAlarm"]["Properties"]
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    assert dimensions.get("stack") == {"Ref": "AWS::StackName"}
    assert alarm["ActionsEnabled"] == {"Fn::If": ["SchedulesOn", True, False]}


@pytest.mark.parametrize("kind", ["custom_connection", "web_app"])
def test_the_idle_metric_carries_the_alarm_dimensions(kind, monkeypatch):
    """CloudWatch matches an alarm to a metric by its exact dimension set
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Dimension)."""
    import time
    from types import SimpleNamespace

    from autoxero.observability import metrics
    from autoxero.secrets.documents import XeroSecret
    from autoxero.sync.build import watch_connection

    rt = SimpleNamespace(
        config=SimpleNamespace(stack="acme", xero_secret_id="x"),
        secrets=SimpleNamespace(xero=lambda _: XeroSecret(refreshed_at=time.time() - 86400)),
        settings=SimpleNamespace(xero=SimpleNamespace(kind=kind)), alerts=None)
    metrics.clear_metrics()
    try:
        watch_connection(rt, "invoices")
        emitted = metrics.serialize_metric_set()
    finally:
        metrics.clear_metrics()
    alarm = resources_of("AWS::CloudWatch::Alarm")["XeroConnectionIdleAlarm"]["Properties"]
    wanted = {d["Name"]: iam.Resolver("acme", {}, {}).value(d["Value"]) for d in alarm["Dimensions"]}
    [directive] = emitted["_aws"]["CloudWatchMetrics"]
    assert sorted(directive["Dimensions"][0]) == sorted(wanted)
    assert {name: emitted[name] for name in wanted} == wanted
    assert "XeroConnectionIdleDays" in emitted


def name_fields(resource: dict) -> dict[str, object]:
    """A resource's own name properties: the one NAME_LIMITS knows for its type, and any other top-level
    `...Name` property built from the stack name (which must then have a documented limit in NAME_LIMITS)."""
    props = resource.get("Properties", {})
    fields = {key: value for key, value in props.items()
              if key.endswith("Name") and "AWS::StackName" in json.dumps(value)}
    known = names.name_property(resource["Type"])
    if known and known in props:
        fields[known] = props[known]
    return fields


def longest_stack_resolver() -> iam.Resolver:
    """Resolves names for a stack with the longest name CloudFormation accepts, each resource CloudFormation
    names itself holding the longest name it would generate for it."""
    stack = "s" * names.LONGEST_STACK_NAME
    physical = {}
    for logical_id, resource in iam.expanded_template()["Resources"].items():
        limit = names.limit_of(resource["Type"])
        physical[logical_id] = names.generated_name(stack, logical_id, "X" * names.SUFFIX_LENGTH, limit)
    return iam.Resolver(stack, {"CustomerName": "c" * 64, "AlarmEmail": "a@example.com"}, physical)


def test_every_stack_name_cloudformation_accepts_fits_every_resource_name():
    """A stack name may be 128 characters (CreateStack); every name the template builds from it, and every
    name built from a name CloudFormation generates, fits its service's documented limit (NAME_LIMITS, each
    with its AWS page): no stack name fails to deploy for its length."""
    resolver = longest_stack_resolver()
    checked, too_long, undocumented = [], [], []
    for logical_id, resource in iam.expanded_template()["Resources"].items():
        for prop, value in name_fields(resource).items():
            if (resource["Type"], prop) not in names.NAME_LIMITS:
                undocumented.append(f"{logical_id}.{prop}")
                continue
            limit = names.NAME_LIMITS[(resource["Type"], prop)][0]
            name = resolver.value(value)
            assert isinstance(name, str) and "<unresolved" not in name, (logical_id, prop, name)
            checked.append(logical_id)
            if limit is not None and len(name) > limit:
                too_long.append(f"{logical_id}.{prop}: {len(name)} characters, {resource['Type']} allows {limit}")
    assert not undocumented, f"add each to NAME_LIMITS with its AWS page: {undocumented}"
    assert not too_long, "\n".join(too_long)
    assert {"ConsoleUserPool", "ConsoleApi", "SyncInvoicesLogs", "DeadLetterAlarm"} <= set(checked)


@pytest.mark.parametrize(("kind", "logical_id"), [("AWS::Lambda::Function", "SyncPurchaseOrdersFunction"),
                                                  ("AWS::SQS::Queue", "EventsDeadLetterQueue"),
                                                  ("AWS::Scheduler::Schedule", "SyncPaymentsFunctionTokenWatch")])
def test_generated_names_fit_and_keep_the_stack_and_the_logical_id_in_sight(kind, logical_id):
    limit = names.limit_of(kind)
    assert limit is not None
    for stack in ("acme", "a" * 40, "b" * 128):
        name = names.generated_name(stack, logical_id, "ABCDEFGHIJKL", limit)
        assert len(name) <= limit and name.endswith("-ABCDEFGHIJKL") and "--" not in name, name
        assert name.startswith(stack[:20]) and logical_id[:10] in name, name
