"""From a Lambda event to a flow run: a schedule (or a manual invoke) runs the flow; an SQS batch is read
message by message through Powertools' BatchProcessor (an unreadable message fails alone) and the records
the messages name are then synced together, in one run."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, ValidationError

from autoxero.lambda_entry import MalformedEvent
from autoxero.observability import logger
from autoxero.sync.build import build_run, watch_connection
from autoxero.sync.flows import Flow, UnknownFlow, flow_named
from autoxero.sync.run import FlowRun, execute

if TYPE_CHECKING:
    from autoxero.runtime import Runtime


class ScheduledEvent(BaseModel):
    """What EventBridge Scheduler sends (the template's Input) or a person sends by hand."""

    model_config = ConfigDict(extra="forbid")
    flow: str
    dry_run: bool = False
    token_watch: bool = False  # only redo an interrupted Xero token refresh (see xero/tokens.py)


def handle(name: str, event: dict[str, Any], context: LambdaContext, rt: Runtime) -> dict[str, Any]:
    try:
        flow = flow_named(name)
    except UnknownFlow as err:
        raise MalformedEvent(str(err)) from None
    if "Records" in event:
        records = event["Records"]
        if not isinstance(records, list) or any(r.get("eventSource") != "aws:sqs" for r in records):
            raise MalformedEvent("Records present but not an SQS batch")
        return consume(rt, flow, event, context)
    try:
        scheduled = ScheduledEvent.model_validate(event)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg']}" for e in err.errors())
        raise MalformedEvent(f"not a schedule or SQS event ({problems})") from None
    if scheduled.flow != name:
        raise MalformedEvent(f"this function runs the {name} flow, the event asks for {scheduled.flow!r}")
    if scheduled.token_watch:
        return {"flow": name, "token_watch": True, "refreshed": rt.xero_tokens.recover()}
    summary = execute(build_run(rt, name, context, scheduled.dry_run), flow.run, rt.alerts)
    if not scheduled.dry_run:
        watch_connection(rt, name)
    return summary


def consume(rt: Runtime, flow: Flow, event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    """Each message read on its own (partial-batch failures), then every record they name synced in one run
    (payments: one Xero read per 50 invoices, however many events). If that sync fails, every message that
    named a record is reported failed, so the queue delivers them again."""
    if flow.read_message is None or flow.sync_records is None:
        raise MalformedEvent(f"the {flow.name} flow has no queue: {flow.no_queue}")
    read, sync = flow.read_message, flow.sync_records
    failures: list[dict[str, str]] = []

    def body(run: FlowRun) -> None:
        named: dict[str, Any] = {}

        def read_one(record: SQSRecord) -> None:
            message = json.loads(record.body)
            if not isinstance(message, dict):
                raise ValueError("the message is not a JSON object")
            key = read(run, message)
            if key is not None:
                named[record.message_id] = key

        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        with processor(records=event["Records"], handler=read_one, lambda_context=context):
            processor.process()
        failures.extend({"itemIdentifier": str(f["itemIdentifier"])} for f in processor.response()["batchItemFailures"])
        if not named:
            return
        try:
            sync(run, list(named.values()))
        except Exception:
            logger.exception(f"{flow.name} events failed; the queue will deliver them again")
            failures.extend({"itemIdentifier": message_id} for message_id in named)

    execute(build_run(rt, flow.name, context, dry_run=False), body, rt.alerts)
    return {"batchItemFailures": failures}
