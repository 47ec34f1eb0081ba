"""XeroConnect: GET /xero/connect starts OAuth2 for the setup-token holder; GET /xero/callback finishes it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from autoxero.lambda_entry import MalformedEvent, entrypoint
from autoxero.observability import logger
from autoxero.runtime import runtime
from autoxero.xero.connect import ConnectService

app = APIGatewayRestResolver()


def _service() -> ConnectService:
    rt = runtime()
    return ConnectService.from_runtime(rt, redirect_uri=_callback_url())


def _callback_url() -> str:
    event = app.current_event
    host = event.headers.get("host", "localhost")
    stage = event.request_context.stage
    scheme = event.headers.get("x-forwarded-proto", "https")
    prefix = f"/{stage}" if stage and stage != "$default" and not host.startswith("127.") else ""
    return f"{scheme}://{host}{prefix}/xero/callback"


@app.get("/xero/connect")
def connect() -> Response[str]:
    outcome = _service().start(app.current_event.get_query_string_value("setup_token"))
    logger.info("xero connect", status=outcome.status, reason=outcome.reason)
    headers = {"Location": outcome.location} if outcome.location else {}
    return Response(status_code=outcome.status, content_type="text/plain", body=outcome.reason, headers=headers)


@app.get("/xero/callback")
def callback() -> Response[str]:
    q = app.current_event.get_query_string_value
    outcome = _service().finish(code=q("code"), state=q("state"), error=q("error"))
    logger.info("xero callback", status=outcome.status, reason=outcome.reason)
    return Response(status_code=outcome.status, content_type="text/plain", body=outcome.reason)


@entrypoint("XeroConnect")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "httpMethod" not in event or "path" not in event:
        raise MalformedEvent("not an API Gateway proxy event (httpMethod and path are missing)")
    return app.resolve(event, context)
