"""Which deployment a CLI command talks to: the local sandbox (default) or a deployed stack (--stack NAME).

The local sandbox is started by `autoxero sandbox serve`, which writes where it listens to
.autoxero/local.json; every other command reads that file. A deployed stack is found through
CloudFormation's outputs, with the caller's AWS credentials.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from autoxero.config import RuntimeConfig
from autoxero.runtime import Runtime
from autoxero_cli.template import ROOT

LOCAL_FILE = Path(os.environ.get("AUTOXERO_LOCAL_FILE") or ROOT / ".autoxero" / "local.json")


class TargetError(RuntimeError):
    """Said to the user as one line: what is wrong and what to do."""


@dataclass
class Target:
    name: str
    config: RuntimeConfig
    local: dict[str, Any] | None = None
    outputs: dict[str, str] = field(default_factory=dict)  # a deployed stack's CloudFormation outputs
    region: str | None = None

    def runtime(self) -> Runtime:
        return Runtime(self.config)

    @property
    def is_local(self) -> bool:
        return self.local is not None


def _local(path: Path | None = None) -> Target:
    path = path or LOCAL_FILE
    if not path.exists():
        raise TargetError("the sandbox is not running: start it with `autoxero sandbox serve` (or use --stack NAME)")
    info = json.loads(path.read_text())
    try:
        httpx.get(f"{info['xero_url']}/_sandbox/clock", timeout=2).raise_for_status()
        httpx.get(f"{info['aws_endpoint']}/moto-api/", timeout=2)
    except (httpx.HTTPError, KeyError):
        raise TargetError("the sandbox is not running (its last address no longer answers): start it with "
                          "`autoxero sandbox serve`") from None
    for key, value in {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": info["aws_endpoint"]}.items():
        os.environ[key] = value
    return Target("local sandbox", RuntimeConfig.from_env(info["environment"]), info)


SAMCONFIG = ROOT / "samconfig.toml"


def stack_region(stack: str, given: str | None = None, samconfig: Path | None = None) -> str:
    """--region, else the region samconfig.toml deploys this stack to, else your AWS profile's, else
    samconfig's default: the stack is looked for where it was deployed."""
    import tomllib

    import boto3

    if given:
        return given
    sections: dict[str, Any] = {}
    path = samconfig or SAMCONFIG
    if path.exists():
        sections = tomllib.loads(path.read_text())
    for section in sections.values():
        deploy = section.get("deploy", {}).get("parameters", {}) if isinstance(section, dict) else {}
        if deploy.get("stack_name") == stack and deploy.get("region"):
            return str(deploy["region"])
    profile = boto3.session.Session().region_name
    if profile:
        return str(profile)
    default = sections.get("default", {}).get("deploy", {}).get("parameters", {}).get("region")
    if default:
        return str(default)
    raise TargetError(f"no AWS region for stack {stack!r}: pass --region (e.g. --region ap-southeast-2), set "
                      "AWS_REGION, or give the stack a region in samconfig.toml")


def _deployed(stack: str, region: str | None = None) -> Target:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    region = stack_region(stack, region)
    os.environ["AWS_DEFAULT_REGION"] = region  # every client the runtime builds talks to the stack's region
    os.environ["AWS_REGION"] = region
    try:
        answer = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack)
    except NoCredentialsError:
        raise TargetError(f"no AWS credentials to reach stack {stack!r}: configure them (aws configure or "
                          "AWS_PROFILE) and retry") from None
    except ClientError as err:
        raise TargetError(f"stack {stack!r} was not found in {region} ({err.response['Error']['Message']}); "
                          "check the name, or pass --region") from None
    except BotoCoreError as err:
        raise TargetError(f"could not reach AWS for stack {stack!r}: {err}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in answer["Stacks"][0].get("Outputs", [])}
    try:
        env = {"AUTOXERO_TABLE": outputs["StateTableName"], "AUTOXERO_XERO_SECRET": outputs["XeroSecretArn"],
               "AUTOXERO_AUTOTASK_SECRET": outputs["AutotaskSecretArn"], "AUTOXERO_CUSTOMER": stack,
               "AUTOXERO_STACK": stack,
               "AUTOXERO_ALERT_TOPIC": outputs.get("AlarmTopicArn", ""),
               "AUTOXERO_XERO_WEBHOOK_SECRET": outputs["XeroWebhookSecretArn"],
               "AUTOXERO_AUTOTASK_WEBHOOK_SECRET": outputs["AutotaskWebhookSecretArn"]}
    except KeyError as missing:
        raise TargetError(f"stack {stack!r} is not an autoxero stack (no output {missing})") from None
    return Target(stack, RuntimeConfig.from_env(env), outputs=outputs, region=region)


def resolve(stack: str | None, region: str | None = None) -> Target:
    return _deployed(stack, region) if stack else _local()


def write_local(info: dict[str, Any], path: Path | None = None) -> None:
    path = path or LOCAL_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=2))


def forget_local(path: Path | None = None) -> None:
    (path or LOCAL_FILE).unlink(missing_ok=True)
