"""What can go wrong talking to Xero, in words a finance person can act on. No secret is ever in a message."""

from __future__ import annotations


class XeroError(RuntimeError):
    """Base: a call to Xero failed."""


class XeroApiError(XeroError):
    def __init__(self, message: str, status: int = 0, validation: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.validation = validation or []


class XeroNotFound(XeroApiError):
    pass


class XeroRateLimited(XeroApiError):
    def __init__(self, message: str, problem: str, retry_after: float) -> None:
        super().__init__(message, 429)
        self.problem = problem
        self.retry_after = retry_after


class XeroDayLimitReached(XeroRateLimited):
    """Xero's 5,000-calls-a-day limit: the flow stops until the reset and says why."""


class XeroReconnectRequired(XeroError):
    """The refresh token is no longer accepted: a person must connect Xero again."""


class XeroNotConnected(XeroError):
    """No token set yet: Xero was never connected for this stack."""
