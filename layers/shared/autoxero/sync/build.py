"""Wiring a flow run from the runtime (clients, settings, the Lambda clock) and draining SQS batches."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from autoxero.sync.run import FlowRun, execute

if TYPE_CHECKING:
    from autoxero.runtime import Runtime


def build_run(rt: Runtime, flow: str, context: LambdaContext | None, dry_run: bool) -> FlowRun:
    remaining: Callable[[], int] = (context.get_remaining_time_in_millis if context is not None
                                    and hasattr(context, "get_remaining_time_in_millis") else lambda: 900_000)
    return FlowRun(flow=flow, state=rt.state, settings=rt.settings, autotask=rt.autotask_client(),
                   xero=rt.xero_client(), dry_run=dry_run, remaining_ms=remaining, **rt.run_options)


def execute_run(rt: Runtime, run: FlowRun, body: Callable[[FlowRun], None]) -> dict[str, Any]:
    return execute(run, body, rt.alerts)


def consume_batch(rt: Runtime, flow: str, event: dict[str, Any], context: LambdaContext, *,
                  key_of: Callable[[FlowRun, dict[str, Any]], int | None],
                  sync: Callable[[FlowRun, list[int]], Any]) -> dict[str, Any]:
    """Each SQS message (a webhook event) once: Powertools Idempotency on the event's guid, and
    partial-batch failure reporting so one bad message is retried alone."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    run = build_run(rt, flow, context, dry_run=False)
    persistence = DynamoDBPersistenceLayer(table_name=rt.config.table_name, key_attr="pk", sort_key_attr="sk",
                                           static_pk_value="IDEMPOTENCY")
    config = IdempotencyConfig(event_key_jmespath="guid", expires_after_seconds=7 * 86400)
    if context is not None:
        config.register_lambda_context(context)

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="message", persistence_store=persistence, config=config,
        key_prefix=f"{flow}-event")
    def apply(message: dict[str, Any]) -> dict[str, Any]:
        key = key_of(run, message)
        if key is not None:
            sync(run, [key])
        return {"record": key}

    outcome: dict[str, Any] = {}

    def body(current: FlowRun) -> None:
        def handle(record: SQSRecord) -> None:
            apply(message=json.loads(record.body))

        outcome.update(process_partial_response(event=event, record_handler=handle,
                                                processor=BatchProcessor(event_type=EventType.SQS),
                                                context=context))

    execute(run, body, rt.alerts)
    return outcome
