"""What every handler shares at its edge: Lambda context in the logs, and a clear structured error line
for an event the handler cannot read (never the event's secrets)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.typing import LambdaContext

from autoxero.observability import logger

R = TypeVar("R")


class MalformedEvent(ValueError):
    """The event is not one this function is wired to receive."""


def entrypoint(function: str) -> Callable[[Callable[[dict[str, Any], LambdaContext], R]],
                                        Callable[[dict[str, Any], LambdaContext], R]]:
    def wrap(inner: Callable[[dict[str, Any], LambdaContext], R]) -> Callable[[dict[str, Any], LambdaContext], R]:
        @functools.wraps(inner)
        def handler(event: dict[str, Any], context: LambdaContext) -> R:
            logger.append_keys(function=function)
            logger.set_correlation_id(getattr(context, "aws_request_id", None))
            if not isinstance(event, dict):
                logger.error("event rejected", reason="the event is not a JSON object",
                             event_type=type(event).__name__)
                raise MalformedEvent(f"{function}: the event is not a JSON object")
            try:
                return inner(event, context)
            except MalformedEvent as err:
                logger.error("event rejected", reason=str(err), event_keys=sorted(event)[:20])
                raise

        return handler

    return wrap
