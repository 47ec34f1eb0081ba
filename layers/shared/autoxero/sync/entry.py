"""From a Lambda event to a flow run: a schedule (or a manual invoke) runs the flow; an SQS batch
hands each message to the flow's consumer with partial-batch failure reporting."""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, ValidationError

from autoxero.lambda_entry import MalformedEvent
from autoxero.runtime import Runtime

FLOWS = ("contacts", "invoices", "purchase_orders", "payments")


class ScheduledEvent(BaseModel):
    """What EventBridge Scheduler sends (the template's Input) or a person sends by hand."""

    model_config = ConfigDict(extra="forbid")
    flow: str
    dry_run: bool = False


class FlowModule(Protocol):
    def run_scheduled(self, rt: Runtime, context: LambdaContext, dry_run: bool) -> dict[str, Any]: ...

    def consume(self, rt: Runtime, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]: ...


def flow_module(flow: str) -> FlowModule:
    if flow not in FLOWS:
        raise MalformedEvent(f"unknown flow {flow!r}; the flows are {', '.join(FLOWS)}")
    module: FlowModule = importlib.import_module(f"autoxero.sync.{flow}")
    return module


def handle(flow: str, event: dict[str, Any], context: LambdaContext, rt: Runtime) -> dict[str, Any]:
    if "Records" in event:
        records = event["Records"]
        if not isinstance(records, list) or any(r.get("eventSource") != "aws:sqs" for r in records):
            raise MalformedEvent("Records present but not an SQS batch")
        return flow_module(flow).consume(rt, event, context)
    try:
        scheduled = ScheduledEvent.model_validate(event)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg']}" for e in err.errors())
        raise MalformedEvent(f"not a schedule or SQS event ({problems})") from None
    if scheduled.flow != flow:
        raise MalformedEvent(f"this function runs the {flow} flow, the event asks for {scheduled.flow!r}")
    return flow_module(flow).run_scheduled(rt, context, scheduled.dry_run)
