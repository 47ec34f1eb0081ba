"""A customer stack's state resources created locally (in moto) exactly as template.yaml defines them.

Physical names follow the template's `!Sub "${AWS::StackName}-..."` patterns, or, where the template names
nothing, the form CloudFormation generates (names.py); function environments are resolved against them, so a
handler run locally sees what it would see in AWS.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import boto3

from autoxero_cli import names
from autoxero_cli.moto_fidelity import atomic_dynamodb_items
from autoxero_cli.template import functions, resources

atomic_dynamodb_items()  # moto's conditional writes are not atomic; DynamoDB's are (see moto_fidelity)

REGION = "us-east-1"
ACCOUNT = "123456789012"
SAM_TYPES = {"AWS::Serverless::Function": "AWS::Lambda::Function"}  # what the SAM transform makes of each


@dataclass
class LocalStack:
    name: str
    endpoint_url: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    physical: dict[str, str] = field(default_factory=dict)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def client(self, service: str) -> Any:
        """One client per service for this stack (boto3 clients are thread-safe; making one costs ~35 ms)."""
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=REGION,  # type: ignore[call-overload]
                                                  endpoint_url=self.endpoint_url)
        return self._clients[service]

    def _sub(self, text: str) -> str:
        def one(match: re.Match[str]) -> str:
            key = match.group(1)
            if key == "AWS::StackName":
                return self.name
            if key == "AWS::Region":
                return REGION
            if key == "AWS::AccountId":
                return ACCOUNT
            if key == "AWS::URLSuffix":
                return "amazonaws.com"
            if key in self.parameters:
                return self.parameters[key]
            return self.physical.get(key.split(".")[0], key)

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self._sub(f"${{{arg}}}")
            if key == "Fn::Sub":
                return self._sub(arg if isinstance(arg, str) else arg[0])
            if key == "Fn::GetAtt":
                return self.physical.get(f"{arg[0]}.{arg[1]}", self.physical.get(arg[0], arg[0]))
        return value

    def create(self) -> LocalStack:
        """Create every table, secret, queue and topic of the template; idempotent."""
        for logical_id, res in resources().items():
            props = res.get("Properties", {})
            kind = res["Type"]
            if kind == "AWS::DynamoDB::Table":
                self._table(logical_id, props)
            elif kind == "AWS::SecretsManager::Secret":
                self._secret(logical_id, props)
            elif kind == "AWS::KMS::Key":
                self._key(logical_id, props)
            elif kind == "AWS::SNS::Topic":
                attributes = {"KmsMasterKeyId": str(self.resolve(props["KmsMasterKeyId"]))} \
                    if "KmsMasterKeyId" in props else {}
                arn = self.client("sns").create_topic(Name=self.resolve(props["TopicName"]),
                                                      Attributes=attributes)["TopicArn"]
                self.physical[logical_id] = arn
        # Queues after the DLQ they redrive to.
        queues = resources("AWS::SQS::Queue")
        for logical_id in sorted(queues, key=lambda k: "RedrivePolicy" in queues[k]["Properties"]):
            self._queue(logical_id, queues[logical_id]["Properties"])
        self._user_pools()
        for logical_id in functions():
            name = self.physical[logical_id] = self.function_name(logical_id)
            self.physical[f"{logical_id}.Arn"] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
        return self

    def generated_name(self, logical_id: str) -> str:
        """The name CloudFormation would give this resource, which the template does not name."""
        kind = resources()[logical_id]["Type"]
        kind = SAM_TYPES.get(kind, kind)
        return names.generated_name(self.name, logical_id, names.local_suffix(self.name, logical_id),
                                    names.limit_of(kind))

    def function_name(self, logical_id: str) -> str:
        return self.generated_name(logical_id)

    def _user_pools(self) -> None:
        """The console's user pool, its groups and app client (moto's cognito-idp issues and signs the tokens)."""
        idp = self.client("cognito-idp")
        existing = {p["Name"]: p["Id"] for p in idp.list_user_pools(MaxResults=60)["UserPools"]}
        for logical_id, res in resources("AWS::Cognito::UserPool").items():
            props = res["Properties"]
            name = self.resolve(props["UserPoolName"])
            if name not in existing:
                existing[name] = idp.create_user_pool(
                    PoolName=name, UsernameAttributes=props.get("UsernameAttributes", []),
                    AutoVerifiedAttributes=props.get("AutoVerifiedAttributes", []),
                    MfaConfiguration=self.resolve(props.get("MfaConfiguration", "OFF")))["UserPool"]["Id"]
            self.physical[logical_id] = existing[name]
        for res in resources("AWS::Cognito::UserPoolGroup").values():
            props = res["Properties"]
            pool = self.resolve(props["UserPoolId"])
            if props["GroupName"] not in {g["GroupName"] for g in idp.list_groups(UserPoolId=pool)["Groups"]}:
                idp.create_group(UserPoolId=pool, GroupName=props["GroupName"], Precedence=props.get("Precedence", 0))
        for logical_id, res in resources("AWS::Cognito::UserPoolClient").items():
            props = res["Properties"]
            pool = self.resolve(props["UserPoolId"])
            name = self.resolve(props["ClientName"])
            clients = {c["ClientName"]: c["ClientId"] for c in
                       idp.list_user_pool_clients(UserPoolId=pool, MaxResults=60)["UserPoolClients"]}
            if name not in clients:
                # USER_PASSWORD_AUTH only here: the local managed-login stand-in signs in with it (managed_login.py).
                clients[name] = idp.create_user_pool_client(
                    UserPoolId=pool, ClientName=name, GenerateSecret=False,
                    ExplicitAuthFlows=[*props.get("ExplicitAuthFlows", []), "ALLOW_USER_PASSWORD_AUTH"],
                    AllowedOAuthFlows=props.get("AllowedOAuthFlows", []),
                    AllowedOAuthScopes=props.get("AllowedOAuthScopes", []),
                    AllowedOAuthFlowsUserPoolClient=True)["UserPoolClient"]["ClientId"]
            self.physical[logical_id] = clients[name]

    def point_console_at(self, gateway_url: str) -> None:
        """The console client's callback and sign-out URLs on the local gateway (the template's are the HTTP API's)."""
        idp = self.client("cognito-idp")
        for logical_id, res in resources("AWS::Cognito::UserPoolClient").items():
            props = res["Properties"]
            idp.update_user_pool_client(
                UserPoolId=self.resolve(props["UserPoolId"]), ClientId=self.physical[logical_id],
                CallbackURLs=[f"{gateway_url}/console/auth/callback"], LogoutURLs=[f"{gateway_url}/console/login"],
                ExplicitAuthFlows=[*props.get("ExplicitAuthFlows", []), "ALLOW_USER_PASSWORD_AUTH"],
                AllowedOAuthFlows=props.get("AllowedOAuthFlows", []),
                AllowedOAuthScopes=props.get("AllowedOAuthScopes", []), AllowedOAuthFlowsUserPoolClient=True)

    def deep_resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.deep_resolve(v) for v in value]
        if isinstance(value, dict):
            resolved = self.resolve(value)
            if resolved is not value:
                return resolved
            return {k: self.deep_resolve(v) for k, v in value.items()}
        return value

    def _key(self, logical_id: str, props: dict[str, Any]) -> None:
        if logical_id in self.physical:
            return
        key = self.client("kms").create_key(Description=str(self.resolve(props.get("Description", ""))),
                                            Policy=json.dumps(self.deep_resolve(props["KeyPolicy"])))["KeyMetadata"]
        self.physical[logical_id] = key["KeyId"]
        self.physical[f"{logical_id}.Arn"] = key["Arn"]

    def _table(self, logical_id: str, props: dict[str, Any]) -> None:
        # Without a TableName CloudFormation generates <stack>-<logical id>-<random>; locally, without the suffix.
        name = self.resolve(props["TableName"]) if "TableName" in props else f"{self.name}-{logical_id}"
        ddb = self.client("dynamodb")
        if name not in ddb.list_tables()["TableNames"]:
            args: dict[str, Any] = {k: props[k] for k in ("KeySchema", "AttributeDefinitions", "BillingMode")}
            if props.get("GlobalSecondaryIndexes"):
                args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
            ddb.create_table(TableName=name, **args)
            ttl = props.get("TimeToLiveSpecification")
            if ttl:
                ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        self.physical[logical_id] = name

    def _secret(self, logical_id: str, props: dict[str, Any]) -> None:
        name = self.resolve(props["Name"])
        sm = self.client("secretsmanager")
        try:
            arn = sm.describe_secret(SecretId=name)["ARN"]
        except sm.exceptions.ResourceNotFoundException:
            value = props.get("SecretString", "{}")
            generate = props.get("GenerateSecretString")
            if generate:  # as CloudFormation does: the template, plus one generated key
                import secrets as pysecrets

                value = json.dumps({**json.loads(generate.get("SecretStringTemplate", "{}")),
                                    generate["GenerateStringKey"]: pysecrets.token_urlsafe(36)})
            arn = sm.create_secret(Name=name, SecretString=value)["ARN"]
        self.physical[logical_id] = arn

    def _queue(self, logical_id: str, props: dict[str, Any]) -> None:
        sqs = self.client("sqs")
        attributes: dict[str, str] = {}
        if "VisibilityTimeout" in props:
            attributes["VisibilityTimeout"] = str(props["VisibilityTimeout"])
        if "RedrivePolicy" in props:
            policy = dict(props["RedrivePolicy"])
            policy["deadLetterTargetArn"] = self.resolve(policy["deadLetterTargetArn"])
            attributes["RedrivePolicy"] = json.dumps(policy)
        name = self.resolve(props["QueueName"]) if "QueueName" in props else self.generated_name(logical_id)
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.physical[logical_id] = url
        self.physical[f"{logical_id}.Arn"] = arn
        self.physical[f"{logical_id}.QueueName"] = name

    def environment(self, logical_id: str, overrides: dict[str, str] | None = None) -> dict[str, str]:
        """A function's environment variables as the deployed function would see them."""
        spec = functions()[logical_id]
        env = {k: str(self.resolve(v)) for k, v in spec.environment.items()}
        env["AWS_LAMBDA_FUNCTION_NAME"] = self.function_name(logical_id)
        env["AWS_DEFAULT_REGION"] = REGION
        if self.endpoint_url:
            env["AWS_ENDPOINT_URL"] = self.endpoint_url
        env.update(overrides or {})
        return env
