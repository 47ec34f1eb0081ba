"""SyncContacts: Autotask companies and contacts to Xero contacts (schedule, and Autotask webhook events from SQS)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autoxero.lambda_entry import entrypoint
from autoxero.observability import metrics
from autoxero.runtime import runtime
from autoxero.sync.entry import handle

FLOW = "contacts"


@entrypoint("SyncContacts")
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(FLOW, event, context, runtime())
