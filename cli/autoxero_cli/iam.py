"""Each function's IAM policy as AWS will see it, and whether it grants one AWS call.

moto enforces no IAM, so a call a function's role does not allow passes every local test and fails with
AccessDenied in AWS. `expanded_template()` runs the SAM transform (aws-sam-translator, the library
CloudFormation's `AWS::Serverless-2016-10-31` transform is built from), so SAM policy templates such as
`DynamoDBCrudPolicy` become the statements AWS attaches to the role. `FunctionPolicies.allows()` evaluates
a call against them the way IAM's policy evaluation logic does for one identity policy set
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html): an explicit
Deny wins, otherwise some Allow must match both the action and the resource; `*` and `?` are wildcards,
actions match case-insensitively (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html).
Statements with a Condition never count as granting here: this check cannot know the request context.

`calls_of()` turns a boto3 request into the (action, resource) pairs IAM authorizes, following each
service's "Actions, resources, and condition keys" page of the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from autoxero_cli.template import load_template

REGION = "us-east-1"
ACCOUNT = "123456789012"
PARTITION = "aws"

# botocore's signing name where it differs from the IAM service prefix.
_IAM_PREFIX = {"monitoring": "cloudwatch"}


class _NoManagedPolicies:
    """The transform asks for AWS managed policy ARNs by name only for `Policies: [SomeManagedPolicyName]`."""

    def load(self) -> dict[str, str]:
        return {}


@cache
def expanded_template() -> dict[str, Any]:
    """template.yaml after the SAM transform, with local code paths replaced by S3 locations (as
    `sam package` does before CloudFormation sees the template)."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    source = copy.deepcopy(load_template())
    for logical_id, resource in source["Resources"].items():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://autoxero-artifacts/{logical_id}.zip"
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    return dict(translator.translate(source, {}, get_managed_policy_map=_NoManagedPolicies().load))


def function_roles(template: dict[str, Any] | None = None) -> dict[str, str]:
    """Each Lambda function's logical id and the logical id of the role it runs as."""
    template = template or expanded_template()
    roles = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Function":
            role = resource["Properties"]["Role"]
            roles[logical_id] = role["Fn::GetAtt"][0]
    return roles


# ---------------------------------------------------------------------------------------- intrinsics


@dataclass
class Resolver:
    """Resolves intrinsic functions against one stack: its name, parameters and physical resources
    (names and ARNs as `LocalStack` created them; GetAtt X.Arn of a table is built from its name)."""

    stack_name: str
    parameters: dict[str, str]
    physical: dict[str, str]
    template: dict[str, Any] = field(default_factory=expanded_template)

    def _parameter(self, name: str) -> str | None:
        if name in self.parameters:
            return self.parameters[name]
        spec = self.template.get("Parameters", {}).get(name)
        return None if spec is None else str(spec.get("Default", ""))

    def ref(self, name: str) -> str:
        pseudo = {"AWS::StackName": self.stack_name, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                  "AWS::Partition": PARTITION, "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": "",
                  "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/{self.stack_name}/"
                                  f"{uuid.uuid5(uuid.NAMESPACE_URL, self.stack_name)}"}
        if name in pseudo:
            return pseudo[name]
        value = self._parameter(name)
        if value is not None:
            return value
        return self.physical.get(name, f"<unresolved {name}>")

    def get_att(self, logical_id: str, attribute: str) -> str:
        known = self.physical.get(f"{logical_id}.{attribute}")
        if known:
            return known
        kind = self.template["Resources"].get(logical_id, {}).get("Type")
        if attribute == "Arn" and kind == "AWS::DynamoDB::Table":
            return f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{self.ref(logical_id)}"
        if attribute == "TopicName" and kind == "AWS::SNS::Topic":
            return self.ref(logical_id).rsplit(":", 1)[-1]
        return f"<unresolved {logical_id}.{attribute}>"

    def condition(self, name: str) -> bool:
        return bool(self.value(self.template.get("Conditions", {})[name]))

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.value(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) != 1:
            return {key: self.value(item) for key, item in node.items()}
        (key, arg), = node.items()
        if key == "Ref":
            return self.ref(arg)
        if key == "Fn::GetAtt":
            logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return self.get_att(logical_id, attribute)
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::Select":
            return self.value(arg[1])[int(arg[0])]
        if key == "Fn::Split":
            return str(self.value(arg[1])).split(arg[0])
        if key == "Fn::Join":
            return str(arg[0]).join(str(self.value(part)) for part in self.value(arg[1]))
        if key == "Fn::If":
            return self.value(arg[1] if self.condition(arg[0]) else arg[2])
        if key == "Fn::Equals":
            return self.value(arg[0]) == self.value(arg[1])
        if key == "Fn::Not":
            return not self.value(arg[0])
        if key == "Fn::And":
            return all(self.value(item) for item in arg)
        if key == "Fn::Or":
            return any(self.value(item) for item in arg)
        if key == "Condition":
            return self.condition(arg)
        return {key: self.value(arg)}

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.value(arg[1]))

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(name)

        return re.sub(r"\$\{([^}!]+)\}", one, text)


# ---------------------------------------------------------------------------------------- evaluation


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    if ignore_case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern)


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditional: bool

    def covers(self, action: str, resource: str) -> bool:
        return (any(_matches(a, action, ignore_case=True) for a in self.actions)
                and any(_matches(r, resource) for r in self.resources))


@dataclass(frozen=True)
class FunctionPolicies:
    function: str
    statements: tuple[Statement, ...]

    def allows(self, action: str, resource: str) -> bool:
        if any(s.effect == "Deny" and s.covers(action, resource) for s in self.statements):
            return False
        return any(s.effect == "Allow" and not s.conditional and s.covers(action, resource)
                   for s in self.statements)


def policies_for(function: str, resolver: Resolver) -> FunctionPolicies:
    """The inline statements of the function's role, with every intrinsic resolved for one stack."""
    template = resolver.template
    role = template["Resources"][function_roles(template)[function]]["Properties"]
    statements = []
    for policy in role.get("Policies", []):
        document = resolver.value(policy["PolicyDocument"])
        for raw in _listed(document.get("Statement", [])):
            if "NotAction" in raw or "NotResource" in raw:
                raise ValueError(f"{function}: NotAction/NotResource statements are not evaluated by this check")
            statements.append(Statement(
                effect=raw["Effect"], actions=tuple(str(a) for a in _listed(raw.get("Action", []))),
                resources=tuple(str(r) for r in _listed(raw.get("Resource", []))),
                conditional="Condition" in raw))
    return FunctionPolicies(function, tuple(statements))


# ---------------------------------------------------------------------------------------- boto3 calls

# TransactWriteItems and TransactGetItems are authorized per item, with the item's own action
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
_TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                     "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}


def _table_arn(name: str) -> str:
    return name if name.startswith("arn:") else f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def _queue_arn(url: str) -> str:
    name = url.rstrip("/").rsplit("/", 1)[-1]
    return f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{name}"


def calls_of(prefix: str, operation: str, params: dict[str, Any],
             secret_arn: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs that authorize one API call."""
    prefix = _IAM_PREFIX.get(prefix, prefix)
    action = f"{prefix}:{operation}"
    if prefix == "dynamodb":
        if operation in ("BatchWriteItem", "BatchGetItem"):
            return [(action, _table_arn(table)) for table in params.get("RequestItems", {})]
        if operation in ("TransactWriteItems", "TransactGetItems"):
            pairs = []
            for item in params.get("TransactItems", []):
                (kind, body), = item.items()
                pairs.append((f"dynamodb:{_TRANSACT_ACTIONS[kind]}", _table_arn(body["TableName"])))
            return pairs
        if "TableName" in params:
            arn = _table_arn(params["TableName"])
            if params.get("IndexName"):
                arn += f"/index/{params['IndexName']}"
            return [(action, arn)]
    if prefix == "secretsmanager" and "SecretId" in params:
        secret = str(params["SecretId"])
        return [(action, secret if secret.startswith("arn:") else (secret_arn or {}).get(secret, secret))]
    if prefix == "sqs" and "QueueUrl" in params:
        return [(action, _queue_arn(params["QueueUrl"]))]
    if prefix == "sns" and ("TopicArn" in params or "TargetArn" in params):
        return [(action, str(params.get("TopicArn") or params.get("TargetArn")))]
    return [(action, "*")]


def describe(statements: FunctionPolicies) -> str:
    return json.dumps([s.__dict__ for s in statements.statements], indent=1, default=str)
