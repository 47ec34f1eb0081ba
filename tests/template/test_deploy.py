"""Template rules AWS enforces at deploy or run time that cfn-lint and `sam validate` do not check; each cites
the AWS page it comes from."""

from __future__ import annotations

import logging

import pytest

from autoxero.xero import connect
from autoxero_cli import iam
from autoxero_cli.template import load_template


def resources_of(kind: str) -> dict[str, dict]:
    return {k: v for k, v in iam.expanded_template()["Resources"].items() if v["Type"] == kind}


def test_schedule_names_differ_between_stacks():
    """A schedule's name is unique within its group, and CreateSchedule answers ConflictException otherwise
    (https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html)."""
    for stack in ("acme", "globex"):
        resolver = iam.Resolver(stack, {}, {})
        names = [resolver.value(s["Properties"].get("Name")) for s in resources_of("AWS::Scheduler::Schedule").values()]
        assert names and all(isinstance(n, str) and n.startswith(f"{stack}-") for n in names), names
        assert len(set(names)) == len(names)


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


# The longest physical name each service accepts, for the names the template builds from the stack name.
NAME_LIMITS = {
    # https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html (FunctionName, 64 as a name)
    ("AWS::Lambda::Function", "FunctionName"): 64,
    # https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html (Name, 1-64)
    ("AWS::Scheduler::Schedule", "Name"): 64,
    # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html (80 characters)
    ("AWS::SQS::Queue", "QueueName"): 80,
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html (AlarmName, 255)
    ("AWS::CloudWatch::Alarm", "AlarmName"): 255,
    # https://docs.aws.amazon.com/lambda/latest/api/API_PublishLayerVersion.html (LayerName, 140)
    ("AWS::Lambda::LayerVersion", "LayerName"): 140,
}


def longest_stack_name() -> int:
    room = []
    for resource in iam.expanded_template()["Resources"].values():
        for (kind, prop), limit in NAME_LIMITS.items():
            name = resource["Properties"].get(prop) if resource["Type"] == kind else None
            if isinstance(name, dict) and "${AWS::StackName}" in str(name):
                room.append(limit - len(iam.Resolver("", {}, {}).value(name)))
    return min(room)


def test_stack_names_too_long_for_the_resource_names_are_refused_before_deploy():
    """CloudFormation's Rules have no string-length function and a parameter cannot see the stack name, so
    the limit is stated in the README and held for every configured customer stack (samconfig.toml)."""
    import re
    import tomllib

    from autoxero_cli.template import ROOT

    limit = longest_stack_name()
    assert limit == 43  # "-sync-purchase-orders" in a 64-character function name
    assert f"at most {limit} characters" in (ROOT / "README.md").read_text()
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    names = [section["deploy"]["parameters"]["stack_name"] for section in config.values()
             if isinstance(section, dict) and "stack_name" in section.get("deploy", {}).get("parameters", {})]
    assert names
    for name in names:
        assert len(name) <= limit and re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", name), name
