"""The simulator's error type: what a handler raises to answer the way Autotask does."""

from __future__ import annotations

from typing import Any


class AutotaskError(Exception):
    """An error answered as Autotask answers it: by default HTTP 500 with `{"errors": [...]}`.

    `body` replaces the default body (e.g. ASP.NET's `{"Message": ...}` for 404/405).
    """

    def __init__(self, *errors: str, status: int = 500, body: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__("; ".join(errors) or f"HTTP {status}")
        self.errors = list(errors)
        self.status = status
        self.body = body if body is not None else {"errors": list(errors)}
        self.headers = headers or {}


def not_found(path: str) -> AutotaskError:
    message = f"No HTTP resource was found that matches the request URI '{path}'."
    return AutotaskError(message, status=404, body={"Message": message})


def method_not_allowed(method: str) -> AutotaskError:
    message = f"The requested resource does not support http method '{method}'."
    return AutotaskError(message, status=405, body={"Message": message})
