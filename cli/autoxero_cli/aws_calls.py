"""Records every AWS call a function makes while it runs locally, to check it against the function's own
IAM policy in template.yaml (moto grants everything; AWS grants only what the role's policy allows).

A botocore `before-parameter-build` handler sees each API call with its parameters before moto (or AWS)
does. It is installed through `botocore.handlers.BUILTIN_HANDLERS`, the list every new botocore session
registers (moto installs its own interception the same way), so every client the product builds is seen.
A call is the function's when it happens inside `invoke()` (which sets AWS_LAMBDA_FUNCTION_NAME as Lambda
does: https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime)
or inside `acting_as(logical_id)` (a test that drives a flow through its Runtime); any other call is an
operator's (the CLI, test set-up) and is not the function's to justify.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from autoxero_cli import iam
from autoxero_cli.local_stack import LocalStack

_acting: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar("autoxero_acting", default=None)


@dataclass(frozen=True)
class Call:
    stack: str
    function: str
    action: str
    resource: str


@dataclass
class Recorder:
    calls: list[Call] = field(default_factory=list)
    stacks: dict[str, LocalStack] = field(default_factory=dict)

    def _who(self) -> tuple[str, str] | None:
        acting = _acting.get()
        if acting is not None:
            return acting
        name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        if not name:
            return None
        for stack_name, stack in self.stacks.items():  # the function whose physical name this is
            for logical_id in iam.function_roles():
                if stack.physical.get(logical_id) == name:
                    return stack_name, logical_id
        return None

    def on_call(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        who = self._who()
        if who is None:
            return
        stack = self.stacks[who[0]]
        service = model.service_model
        prefix = service.metadata.get("signingName") or service.endpoint_prefix
        secret_arns = {iam_secret_name(arn): arn for arn in stack.physical.values() if ":secretsmanager:" in arn}
        pairs = iam.calls_of(prefix, model.name, params, secret_arns)
        if any(r.startswith("arn:aws:secretsmanager:") and r not in secret_arns.values() for _, r in pairs):
            # A secret this stack does not have (the suffix of a secret ARN is random): the call is to another
            # stack of the same name — made by another process, e.g. `autoxero console` serving its own — which
            # this recorder never saw created, so it cannot judge it.
            return
        if pairs and pairs[0][0] == "sns:Publish":
            pairs += topic_key_calls(stack, pairs[0][1])
        for action, resource in pairs:
            self.calls.append(Call(who[0], who[1], action, resource))

    def denied(self, since: int = 0) -> list[Call]:
        """The recorded calls (from index `since`) that the function's own policy does not allow."""
        policies: dict[tuple[str, str], iam.FunctionPolicies] = {}
        refused = []
        for call in self.calls[since:]:
            key = (call.stack, call.function)
            if key not in policies:
                stack = self.stacks[call.stack]
                policies[key] = iam.policies_for(call.function, iam.Resolver(stack.name, stack.parameters,
                                                                             stack.physical))
            if not policies[key].allows(call.action, call.resource):
                refused.append(call)
        return refused


def topic_key_calls(stack: LocalStack, topic_arn: str) -> list[tuple[str, str]]:
    """Publishing to a topic encrypted with a customer-managed key needs kms:GenerateDataKey* and kms:Decrypt
    on that key too (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html); moto's SNS makes no
    KMS call, so the recorder adds them. An AWS-managed key (alias/aws/...) needs no grant of the caller."""
    from autoxero_cli.template import resources

    for logical_id, resource in resources("AWS::SNS::Topic").items():
        key = resource["Properties"].get("KmsMasterKeyId")
        if stack.physical.get(logical_id) != topic_arn or key is None:
            continue
        if isinstance(key, str) and key.startswith("alias/aws/"):
            return []
        key_logical = key.get("Ref") if isinstance(key, dict) else None
        key_arn = stack.physical.get(f"{key_logical}.Arn", f"<unknown key {key}>")
        return [("kms:GenerateDataKey", key_arn), ("kms:Decrypt", key_arn)]
    return []


def iam_secret_name(arn: str) -> str:
    """A secret's name from its ARN (Secrets Manager appends '-' and six random characters)."""
    return arn.split(":secret:", 1)[1][:-7]


RECORDER = Recorder()


def install() -> Recorder:
    """Install the handler for every botocore session created from now on, and register every
    LocalStack created, so calls resolve against the right stack's physical resources."""
    from botocore import handlers

    entry = ("before-parameter-build", RECORDER.on_call)
    if entry not in handlers.BUILTIN_HANDLERS:
        handlers.BUILTIN_HANDLERS.append(entry)
        original = LocalStack.create

        def create(self: LocalStack) -> LocalStack:
            RECORDER.stacks[self.name] = self
            return original(self)

        LocalStack.create = create  # type: ignore[method-assign]
    return RECORDER


def flow_function(flow: str) -> str:
    """The template function that runs `flow` (its AUTOXERO_FLOW)."""
    from autoxero_cli.template import functions

    return next(f for f, spec in functions().items() if spec.environment.get("AUTOXERO_FLOW") == flow)


@contextmanager
def acting_as(stack_name: str, function: str) -> Iterator[None]:
    """Calls made in this block are `function`'s, in stack `stack_name` (a test driving a flow directly)."""
    token = _acting.set((stack_name, function))
    try:
        yield
    finally:
        _acting.reset(token)
