"""The expanded template (SAM transform) created in moto's CloudFormation: two customer stacks side by side
in one account and region, and a stack deleted and re-created under the same name (cli/autoxero_cli/cfn_moto.py
completes moto for the types it does not create, each from the CloudFormation resource reference)."""

from __future__ import annotations

import copy
import io
import json
import warnings
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from autoxero_cli import cfn_moto, iam, names

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
# The console's HTTP API and its user pool's client, domain and groups: moto 5's CloudFormation has no model for
# them (and no stand-in here yet). They are checked by cfn-lint and `sam validate --lint`, and created locally from
# this template by LocalStack._user_pools and the local gateway (cli/autoxero_cli/http_api.py).
CONSOLE_TYPES_MOTO_CANNOT_CREATE = ("AWS::ApiGatewayV2::", "AWS::Cognito::UserPoolClient",
                                    "AWS::Cognito::UserPoolDomain", "AWS::Cognito::UserPoolGroup")


@pytest.fixture
def cloudformation(aws):
    """moto's CloudFormation, with the stack's code packaged where the expanded template points."""
    cfn_moto.install()
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="autoxero-artifacts")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("app.py", "def handler(event, context):\n    return {}\n")
    for resource in iam.expanded_template()["Resources"].values():
        if resource["Type"] in ("AWS::Lambda::Function", "AWS::Lambda::LayerVersion"):
            code = resource["Properties"].get("Code") or resource["Properties"].get("Content")
            s3.put_object(Bucket=code["S3Bucket"], Key=code["S3Key"], Body=archive.getvalue())
    return boto3.client("cloudformation", region_name="us-east-1")


def create(cfn, name: str, customer: str, template: dict | None = None) -> dict:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        body = json.dumps(template or iam.expanded_template())
        cfn.create_stack(StackName=name, TemplateBody=body, Capabilities=CAPABILITIES,
                         Parameters=[{"ParameterKey": "CustomerName", "ParameterValue": customer},
                                     {"ParameterKey": "AlarmEmail", "ParameterValue": "finance@example.com"}])
    skipped = [str(w.message) for w in caught if "not supported" in str(w.message)
               and not any(kind in str(w.message) for kind in CONSOLE_TYPES_MOTO_CANNOT_CREATE)]
    assert not skipped, skipped  # "created completely" means every resource, not the ones moto knows
    return cfn.describe_stacks(StackName=name)["Stacks"][0]


def test_two_customer_stacks_create_side_by_side(cloudformation):
    first = create(cloudformation, "acme", "Acme")
    second = create(cloudformation, "globex", "Globex")
    assert (first["StackStatus"], second["StackStatus"]) == ("CREATE_COMPLETE", "CREATE_COMPLETE")
    schedules = boto3.client("scheduler", region_name="us-east-1").list_schedules()["Schedules"]
    assert len(schedules) == 10 and len({s["Name"] for s in schedules}) == 10  # 5 per stack (4 flows + token watch)
    functions = boto3.client("lambda", region_name="us-east-1").list_functions()["Functions"]
    assert len(functions) == 2 * len(iam.function_roles())


def test_a_stack_with_the_longest_name_cloudformation_accepts_creates(cloudformation):
    """128 characters (CreateStack's StackName); cfn_moto makes moto refuse a name over its service's limit and
    cut the names it generates to fit, as CloudFormation and the services do (cli/autoxero_cli/names.py)."""
    name = "a" + "-long-customer-name" * 6 + "x" * 13
    assert len(name) == names.LONGEST_STACK_NAME
    created = create(cloudformation, name, "Acme")
    assert created["StackStatus"] == "CREATE_COMPLETE"
    resources = cloudformation.list_stack_resources(StackName=name)["StackResourceSummaries"]
    functions = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources
                 if r["ResourceType"] == "AWS::Lambda::Function"}
    assert len(functions) == len(iam.function_roles())
    for logical_id, function in functions.items():
        assert len(function) <= 64 and logical_id[:8] in function, function
    schedules = boto3.client("scheduler", region_name="us-east-1").list_schedules()["Schedules"]
    assert len(schedules) == 5 and all(len(s["Name"]) <= 64 for s in schedules)


def test_a_stack_deleted_and_recreated_under_its_name_creates_again(cloudformation):
    create(cloudformation, "acme", "Acme")
    cloudformation.delete_stack(StackName="acme")
    again = create(cloudformation, "acme", "Acme")
    assert again["StackStatus"] == "CREATE_COMPLETE"


def mutant(change) -> dict:
    template = copy.deepcopy(iam.expanded_template())
    for logical_id, resource in template["Resources"].items():
        change(logical_id, resource)
    return template


def schedules_named_by_logical_id(logical_id: str, resource: dict) -> None:
    if resource["Type"] == "AWS::Scheduler::Schedule":  # what SAM does without a Name
        resource["Properties"]["Name"] = logical_id


def fixed_table_name(logical_id: str, resource: dict) -> None:
    if resource["Type"] == "AWS::DynamoDB::Table":
        resource["Properties"]["TableName"] = {"Fn::Sub": "${AWS::StackName}-state"}


# moto's CloudFormation answers a resource's error in a body botocore cannot parse as CloudFormation's XML.
def test_the_check_catches_schedules_named_by_logical_id(cloudformation):
    broken = mutant(schedules_named_by_logical_id)
    create(cloudformation, "acme", "Acme", broken)
    with pytest.raises((ClientError, ResponseParserError), match="ConflictException"):
        create(cloudformation, "globex", "Globex", broken)


def test_the_check_catches_a_name_built_past_its_service_limit(cloudformation):
    def function_named_from_the_stack(logical_id: str, resource: dict) -> None:
        if resource["Type"] == "AWS::Lambda::Function":
            resource["Properties"]["FunctionName"] = {"Fn::Sub": f"${{AWS::StackName}}-{logical_id}"}

    broken = mutant(function_named_from_the_stack)
    create(cloudformation, "acme", "Acme", broken)
    with pytest.raises((ClientError, ResponseParserError), match="less than or equal to 64"):
        create(cloudformation, "a" * 50, "Acme", broken)


def test_the_check_catches_a_retained_table_with_a_fixed_name(cloudformation):
    broken = mutant(fixed_table_name)
    create(cloudformation, "acme", "Acme", broken)
    cloudformation.delete_stack(StackName="acme")
    with pytest.raises((ClientError, ResponseParserError), match="ResourceInUseException"):
        create(cloudformation, "acme", "Acme", broken)
