"""SyncPurchaseOrders: Autotask purchase orders to Xero bills or purchase orders (schedule)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autoxero.lambda_entry import entrypoint
from autoxero.observability import metrics
from autoxero.runtime import runtime
from autoxero.sync.entry import handle

FLOW = "purchase_orders"


@entrypoint("SyncPurchaseOrders")
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(FLOW, event, context, runtime())
