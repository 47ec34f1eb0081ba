"""moto's CloudFormation, completed for the resource types this stack uses, to create customer stacks from
the SAM-expanded template as CloudFormation would.

moto 5 creates most of the expanded template's types but skips (with a warning) AWS::Scheduler::Schedule,
AWS::SecretsManager::Secret and AWS::CloudWatch::Alarm, and creates an AWS::ApiGateway::RestApi without
importing its `Body`, so the SAM-generated deployment fails with "The REST API doesn't contain any methods".
Each stand-in below calls moto's own backend for the service, so the service's rules apply as moto models
them, and follows the CloudFormation resource reference for what the resource does:
- Schedule: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-scheduler-schedule.html
  creates a schedule named `Name` in `GroupName` (default group when absent); CreateSchedule answers
  ConflictException when the group already holds that name
  (https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html).
- Secret: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-secretsmanager-secret.html
  (Ref is the ARN; a name already in use fails, ResourceExistsException in CreateSecret).
- Alarm: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-alarm.html
- RestApi Body: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-apigateway-restapi.html
  ("an OpenAPI specification that defines a set of RESTful APIs"), imported with moto's PutRestApi.
- UserPool: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cognito-userpool.html
  (Ref is the pool id; GetAtt Arn, ProviderName, ProviderURL), created with moto's CreateUserPool.
- ManagedLoginBranding: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cognito-managedloginbranding.html
  (Ref is the branding id). moto has no managed-login API, so this stand-in only hands out an id: nothing local
  reads the branding (the local managed login is cli/autoxero_cli/managed_login.py).
- Names (cli/autoxero_cli/names.py, each limit with its AWS page): moto generates `<stack>-<logical id>-<random>`
  uncut for most types and lets Lambda, Scheduler, IAM and Cognito take names of any length. CloudFormation cuts a
  generated name to fit the service's limit, and the service refuses an explicit name over it, which fails the
  stack: `_names_as_cloudformation_and_the_services_have_them` does both.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel


class SchedulerSchedule(CloudFormationModel):
    def __init__(self, arn: str, name: str, group: str) -> None:
        self.arn = arn
        self.name = name
        self.group = group

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.scheduler.models import scheduler_backends

        scheduler_backends[account_id][region_name].delete_schedule(self.group, self.name)

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Scheduler::Schedule"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
            **kwargs: Any) -> SchedulerSchedule:
        from moto.scheduler.models import scheduler_backends

        props = cloudformation_json["Properties"]
        schedule = scheduler_backends[account_id][region_name].create_schedule(
            description=props.get("Description", ""), end_date=props.get("EndDate", ""),
            flexible_time_window=props["FlexibleTimeWindow"], group_name=props.get("GroupName", "default"),
            kms_key_arn=props.get("KmsKeyArn", ""), name=props.get("Name", resource_name),
            schedule_expression=props["ScheduleExpression"],
            schedule_expression_timezone=props.get("ScheduleExpressionTimezone", ""),
            start_date=props.get("StartDate", ""), state=props.get("State", "ENABLED"), target=props["Target"],
            action_after_completion=None)
        return cls(schedule.arn, schedule.name, schedule.group_name)


class SecretsManagerSecret(CloudFormationModel):
    def __init__(self, arn: str) -> None:
        self.arn = arn

    def delete(self, account_id: str, region_name: str) -> None:
        """CloudFormation deletes a stack's secret without a recovery window, so its name is free again at
        once (https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/1999)."""
        from moto.secretsmanager.models import secretsmanager_backends

        secretsmanager_backends[account_id][region_name].delete_secret(
            secret_id=self.arn, recovery_window_in_days=None, force_delete_without_recovery=True)

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::Secret"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
            **kwargs: Any) -> SecretsManagerSecret:
        from moto.secretsmanager.models import secretsmanager_backends

        props = cloudformation_json["Properties"]
        created = secretsmanager_backends[account_id][region_name].create_secret(
            name=props.get("Name", resource_name), secret_string=props.get("SecretString", "{}"),
            secret_binary=None, description=props.get("Description"), tags=props.get("Tags"),
            kms_key_id=props.get("KmsKeyId"), client_request_token=None, replica_regions=[],
            force_overwrite=False)
        return cls(json.loads(created)["ARN"] if isinstance(created, str) else created["ARN"])


class CloudWatchAlarm(CloudFormationModel):
    def __init__(self, name: str, arn: str) -> None:
        self.name = name
        self.arn = arn

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.cloudwatch.models import cloudwatch_backends

        cloudwatch_backends[account_id][region_name].delete_alarms([self.name])

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
            **kwargs: Any) -> CloudWatchAlarm:
        from moto.cloudwatch.models import cloudwatch_backends

        p = cloudformation_json["Properties"]
        alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=p.get("AlarmName", resource_name), namespace=p.get("Namespace"), metric_name=p.get("MetricName"),
            comparison_operator=p["ComparisonOperator"], evaluation_periods=int(p["EvaluationPeriods"]),
            period=int(p.get("Period", 60)), threshold=float(p.get("Threshold", 0)), statistic=p.get("Statistic"),
            description=p.get("AlarmDescription", ""), dimensions=p.get("Dimensions", []),
            alarm_actions=p.get("AlarmActions", []), actions_enabled=str(p.get("ActionsEnabled", True)).lower()
            == "true", treat_missing_data=p.get("TreatMissingData"))
        return cls(alarm.name, alarm.alarm_arn)


class ApiGatewayStage(CloudFormationModel):
    """https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-apigateway-stage.html
    (Ref is the stage name); CreateStage refuses a stage name the API already has (ConflictException)."""

    def __init__(self, name: str, api_id: str) -> None:
        self.name = name
        self.api_id = api_id

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.apigateway.models import apigateway_backends

        apigateway_backends[account_id][region_name].delete_stage(self.api_id, self.name)

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGateway::Stage"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "StageName"

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
            **kwargs: Any) -> ApiGatewayStage:
        from moto.apigateway.models import apigateway_backends

        p = cloudformation_json["Properties"]
        api = apigateway_backends[account_id][region_name].get_rest_api(p["RestApiId"])
        stage = api.create_stage(name=p["StageName"], deployment_id=p["DeploymentId"], variables=p.get("Variables"),
                                 description=p.get("Description", ""), cacheClusterEnabled=None,
                                 cacheClusterSize=None, tags=None, tracing_enabled=p.get("TracingEnabled"))
        return cls(stage.name, p["RestApiId"])


def _rest_api_with_body() -> None:
    from moto.apigateway import models

    original = models.RestAPI.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    if getattr(original, "autoxero_imports_body", False):
        return

    def create(cls: Any, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
               region_name: str, **kwargs: Any) -> Any:
        api = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        body = cloudformation_json["Properties"].get("Body")
        if body:
            models.apigateway_backends[account_id][region_name].put_rest_api(api.id, body, fail_on_warnings=False)
        return api

    create.autoxero_imports_body = True  # type: ignore[attr-defined]
    models.RestAPI.create_from_cloudformation_json = classmethod(create)  # type: ignore[assignment,method-assign]


class CognitoUserPool(CloudFormationModel):
    def __init__(self, pool: Any) -> None:
        self.pool = pool

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.cognitoidp.models import cognitoidp_backends

        cognitoidp_backends[account_id][region_name].delete_user_pool(self.pool.id)

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Cognito::UserPool"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "UserPoolName"

    @property
    def physical_resource_id(self) -> str:
        return str(self.pool.id)

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Arn", "ProviderName", "ProviderURL", "UserPoolId")

    def get_cfn_attribute(self, attribute_name: str) -> str:
        provider = f"cognito-idp.{self.pool.region}.amazonaws.com/{self.pool.id}"
        return {"Arn": self.pool.arn, "ProviderName": provider, "ProviderURL": f"https://{provider}",
                "UserPoolId": self.pool.id}[attribute_name]

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
            **kwargs: Any) -> CognitoUserPool:
        from moto.cognitoidp.models import cognitoidp_backends

        props = dict(cloudformation_json["Properties"])
        name = props.pop("UserPoolName", resource_name)
        return cls(cognitoidp_backends[account_id][region_name].create_user_pool(name, props))


class CognitoManagedLoginBranding(CloudFormationModel):
    def __init__(self, branding_id: str) -> None:
        self.branding_id = branding_id

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Cognito::ManagedLoginBranding"

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @property
    def physical_resource_id(self) -> str:
        return self.branding_id

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
            **kwargs: Any) -> CognitoManagedLoginBranding:
        import uuid

        return cls(str(uuid.uuid4()))


def _names_as_cloudformation_and_the_services_have_them() -> None:
    from moto.cloudformation import parsing
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.utils import random_suffix

    from autoxero_cli import names

    if getattr(parsing.parse_resource_and_generate_name, "autoxero_checks_names", False):
        return
    original_parse, original_generate = parsing.parse_resource_and_generate_name, parsing.generate_resource_name

    def generate(resource_type: str, stack_name: str, logical_id: str) -> str:
        limit = names.limit_of(resource_type)
        if limit is None:
            return original_generate(resource_type, stack_name, logical_id)
        return names.generated_name(stack_name, logical_id, random_suffix(), limit)

    def parse(logical_id: str, resource_json: dict[str, Any], resources_map: Any) -> Any:
        parsed = original_parse(logical_id, resource_json, resources_map)
        kind, prop = resource_json["Type"], names.name_property(resource_json["Type"])
        limit = names.limit_of(kind)
        name = str(parsed[1]["Properties"].get(prop, parsed[2])) if parsed and prop else ""
        if limit is not None and len(name) > limit:
            # The service's answer (CreateFunction, CreateSchedule, ...: a validation error naming the
            # constraint) fails the resource, and so the stack.
            raise ValidationError(message=f"{logical_id} ({kind}): 1 validation error detected: Value '{name}' "
                                          f"at '{prop}' failed to satisfy constraint: Member must have length "
                                          f"less than or equal to {limit}")
        return parsed

    parse.autoxero_checks_names = True  # type: ignore[attr-defined]
    parsing.generate_resource_name = generate
    parsing.parse_resource_and_generate_name = parse


def install() -> None:
    """Make the stand-ins visible to moto's CloudFormation (its model map is cached on first use)."""
    from moto.cloudformation import parsing

    _rest_api_with_body()
    _names_as_cloudformation_and_the_services_have_them()
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
