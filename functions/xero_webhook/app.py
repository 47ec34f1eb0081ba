"""XeroWebhook: POST /webhooks/xero — verify the signature, enqueue the events, answer within 5 s."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from autoxero import webhooks
from autoxero.lambda_entry import MalformedEvent, entrypoint
from autoxero.observability import logger
from autoxero.runtime import runtime

app = APIGatewayRestResolver()


@app.post("/webhooks/xero")
def receive() -> Response[str]:
    rt = runtime()
    secret = rt.secrets.read(rt.config.webhook_secret_id("xero"))
    reply = webhooks.accept_xero(
        webhooks.raw_body(app.current_event.raw_event),
        app.current_event.headers.get("x-xero-signature"),
        webhook_key=str(secret.get("webhook_key", "")),
        tenant_id=secret.get("tenant_id") or None,
        enqueue=rt.events_queue.send,
    )
    logger.info("xero webhook", status=reply.status, reason=reply.reason, enqueued=reply.enqueued)
    # Xero expects an empty body, and 401 (not 403) for a bad signature.
    return Response(status_code=reply.status, content_type="text/plain", body="")


@entrypoint("XeroWebhook")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "httpMethod" not in event or "path" not in event:
        raise MalformedEvent("not an API Gateway proxy event (httpMethod and path are missing)")
    return app.resolve(event, context)
