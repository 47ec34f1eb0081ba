"""Console: the finance team's pages (server-rendered HTML) behind the stack's HTTP API and its JWT authorizer."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autoxero.console.app import handle
from autoxero.lambda_entry import MalformedEvent, entrypoint


@entrypoint("Console")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("version") != "2.0" or "rawPath" not in event:
        raise MalformedEvent("not an HTTP API (payload 2.0) event: version and rawPath are missing")
    return handle(event, context)
