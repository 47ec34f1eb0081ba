"""SyncPayments: Xero payments back to Autotask paidDate (Xero webhook events from SQS, and a polling schedule)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autoxero.lambda_entry import entrypoint
from autoxero.observability import metrics
from autoxero.runtime import runtime
from autoxero.sync.entry import handle

FLOW = "payments"


@entrypoint("SyncPayments")
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(FLOW, event, context, runtime())
