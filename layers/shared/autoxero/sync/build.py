"""Wiring a flow run from the runtime (clients, settings, the Lambda clock) and draining SQS batches."""

from __future__ import annotations

import json
import time
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
    summary = execute(run, body, rt.alerts)
    if not run.dry_run:
        watch_connection(rt, run.flow)
    return summary


IDLE_WARNING_DAYS = 45  # Xero drops a refresh token left unused for 60 days


def watch_connection(rt: Runtime, flow: str) -> float | None:
    """Days since the Xero token set was last refreshed: a metric every run (its alarm also fires when the
    metric stops arriving, i.e. when the stack stops running), and an alert well before Xero's 60 days."""
    from aws_lambda_powertools.metrics import MetricUnit

    from autoxero.observability import metrics

    secret = rt.secrets.read(rt.config.xero_secret_id)
    last = secret.get("refreshed_at") or secret.get("connected_at")
    # One series per stack (the alarm's dimensions): every stack in a region shares the namespace.
    metrics.dimension_set["flow"] = flow
    metrics.dimension_set["stack"] = rt.config.stack
    if rt.settings.xero.kind == "custom_connection":
        # No refresh token to lose; reporting 0 keeps "no data" meaning "this stack stopped running".
        metrics.add_metric(name="XeroConnectionIdleDays", unit=MetricUnit.Count, value=0)
        return None
    if not last:
        return None
    idle = max(0.0, (time.time() - float(last)) / 86400)
    metrics.add_metric(name="XeroConnectionIdleDays", unit=MetricUnit.Count, value=round(idle, 2))
    if idle >= IDLE_WARNING_DAYS:
        rt.alerts.notify("the Xero connection is about to expire",
                         f"The Xero connection was last used {idle:.0f} days ago; Xero ends it after 60 days "
                         f"unused ({flow} noticed). Check that the schedules run, or reconnect with "
                         "`autoxero connect xero`.")
    return idle


IDEMPOTENCY_EXPIRY_ATTRIBUTE = "ttl"  # the table's TimeToLiveSpecification (Powertools' default is "expiration")


def idempotency_store(table_name: str) -> Any:
    """Powertools Idempotency records in the state table, expiring through the table's own TTL attribute."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=table_name, key_attr="pk", sort_key_attr="sk",
                                    static_pk_value="IDEMPOTENCY", expiry_attr=IDEMPOTENCY_EXPIRY_ATTRIBUTE)


def consume_batch(rt: Runtime, flow: str, event: dict[str, Any], context: LambdaContext, *,
                  key_of: Callable[[FlowRun, dict[str, Any]], int | None],
                  sync: Callable[[FlowRun, list[int]], Any]) -> dict[str, Any]:
    """Each SQS message (a webhook event) once: Powertools Idempotency on the event's guid, and
    partial-batch failure reporting so one bad message is retried alone."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    run = build_run(rt, flow, context, dry_run=False)
    persistence = idempotency_store(rt.config.table_name)
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
