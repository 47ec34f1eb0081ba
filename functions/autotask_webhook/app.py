"""AutotaskWebhook: POST /webhooks/autotask — verify the signature, enqueue the company or contact change."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from autoxero import webhooks
from autoxero.lambda_entry import MalformedEvent, entrypoint
from autoxero.observability import logger
from autoxero.runtime import runtime

app = APIGatewayRestResolver()


@app.post("/webhooks/autotask")
def receive() -> Response[str]:
    rt = runtime()
    secret = rt.secrets.read(rt.config.webhook_secret_id("autotask"))
    reply = webhooks.accept_autotask(
        webhooks.raw_body(app.current_event.raw_event),
        app.current_event.headers.get("x-hook-signature"),
        secret_key=str(secret.get("webhook_secret", "")),
        enqueue=rt.events_queue.send,
    )
    logger.info("autotask webhook", status=reply.status, reason=reply.reason, enqueued=reply.enqueued)
    return Response(status_code=reply.status, content_type="text/plain", body="")


@entrypoint("AutotaskWebhook")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "httpMethod" not in event or "path" not in event:
        raise MalformedEvent("not an API Gateway proxy event (httpMethod and path are missing)")
    return app.resolve(event, context)
