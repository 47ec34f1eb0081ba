"""What can go wrong talking to Autotask, classified by what the caller should do about it.

Autotask answers most failures, including bad credentials and missing permissions, with HTTP 500 and
`{"errors": ["…"]}` (docs/autotask.md §7, pitfall 3), and thread-limit rejections may arrive with any status
(pitfall 4). So `classify` reads the body text first and the status second.

Every message is written for the finance person who reads the needs-attention list, and passes through
`autoxero.redaction.redact`: no secret value ever appears in one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from autoxero.redaction import redact

ThrottleKind = Literal["thread", "hourly", "rate", "slots", "share"]


class AutotaskError(Exception):
    """Base of every Autotask adapter error. `str(err)` is the finance-friendly message."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None, errors: Sequence[str] = (),
                 entity: str | None = None, retry_after: float | None = None) -> None:
        self.message = redact(message)
        self.status = status
        self.errors = tuple(redact(e) for e in errors)
        self.entity = entity
        self.retry_after = retry_after  # Autotask's Retry-After in seconds, when it sent one
        self.attempts = 1               # how many requests were made before giving up
        super().__init__(self.message)

    @property
    def detail(self) -> str:
        """Autotask's own words (redacted), for the ledger and logs."""
        return "; ".join(self.errors)


class AutotaskAuthError(AutotaskError):
    """Autotask did not accept the API user: user name, secret or integration code (or zone lookup failed)."""


class AutotaskPermissionError(AutotaskError):
    """The API user is known but its security level does not allow this."""


class AutotaskNotFound(AutotaskError):
    """The record (or the resource) does not exist."""


class AutotaskValidationError(AutotaskError):
    """Autotask refused the request itself: a field, a value, a rule. Retrying will not help."""


class AutotaskThrottled(AutotaskError):
    """Autotask's limits: the 3-thread limit (Itgenatr005), the hourly request threshold, or a 429.

    `retry_after` is Autotask's `Retry-After` in seconds when it sent one. After an hourly-threshold
    rejection the flow should stop cleanly, save its cursor and let the next trigger continue.
    """

    retryable = True

    def __init__(self, message: str, *, kind: ThrottleKind = "rate", retry_after: float | None = None,
                 status: int | None = None, errors: Sequence[str] = (), entity: str | None = None) -> None:
        super().__init__(message, status=status, errors=errors, entity=entity, retry_after=retry_after)
        self.kind: ThrottleKind = kind


class AutotaskBusy(AutotaskThrottled):
    """No Autotask request slot came free in time (other invocations of this stack are using all three).

    Not retried by the client: the limiter has already waited its bounded time.
    """

    retryable = False


class AutotaskShareUsed(AutotaskThrottled):
    """autoxero's share of Autotask's hourly threshold is used (pacing.py): the run stops, the next continues.

    Not retried: waiting inside a run would only hold the Lambda; the schedule is the wait.
    """

    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(message, kind="share")


class AutotaskUnavailable(AutotaskError):
    """Autotask could not be reached or answered with a gateway error (502/503/504, timeout, dropped connection).

    `uncertain` is set when a write may or may not have been applied (the request was sent and no answer came).
    """

    retryable = True

    def __init__(self, message: str, *, status: int | None = None, errors: Sequence[str] = (),
                 entity: str | None = None, retry_after: float | None = None, uncertain: bool = False) -> None:
        super().__init__(message, status=status, errors=errors, entity=entity, retry_after=retry_after)
        self.uncertain = uncertain


_THREAD = re.compile(r"itgenatr005|thread threshold", re.IGNORECASE)
_HOURLY = re.compile(r"request threshold", re.IGNORECASE)
_AUTH = re.compile(
    r"zone information could not be determined|integration ?code is invalid|username is invalid"
    r"|not an api user|authorization has been denied|invalid credentials|user ?name or (?:password|secret)",
    re.IGNORECASE)
_PERMISSION = re.compile(r"does not have the adequate permissions|not have permission|access denied", re.IGNORECASE)
_MISSING_RECORD = re.compile(r"unable to find \w+ with id", re.IGNORECASE)
# SQL Server's own words for a failure that a retry fixes (error 1205: "... chosen as the deadlock victim. Rerun the
# transaction."; a command timeout), should Autotask pass them through inside its errors array.
_TRANSIENT = re.compile(r"deadlock victim|rerun the transaction|timeout expired|execution timeout", re.IGNORECASE)
GATEWAY_STATUSES = frozenset({502, 503, 504})


def _what(entity: str | None) -> str:
    return f"Autotask ({entity})" if entity else "Autotask"


def classify(status: int, errors: Sequence[str], *, entity: str | None = None,
             retry_after: float | None = None, refused: bool = True) -> AutotaskError:
    """The error for a non-2xx answer: body text first (Autotask's 500s carry the meaning), then status.

    A 500 is not always a refusal. Autotask refuses a request (validation, permission, credentials) with HTTP 500
    and its own `{"errors": ["..."]}` ("unsuccessful operations return HTTP 500 with an array of strings", Autotask's
    PATCH page); `refused` says the answer had that shape. A 500 without it (ASP.NET Web API's default answer to an
    unhandled exception, `{"Message": "An error has occurred."}`, an empty body, an HTML error page) is the server
    failing, not the request: it is retried like a 503. So is a refusal whose text is a database's transient failure.
    """
    text = " ".join(errors)
    where = _what(entity)
    said = f" Autotask said: {text}" if text else ""
    if _THREAD.search(text):
        return AutotaskThrottled(
            f"{where} is busy: this integration already has the maximum of 3 requests running on that "
            "endpoint. The sync waits and retries by itself." + said,
            kind="thread", retry_after=retry_after, status=status, errors=errors, entity=entity)
    if _HOURLY.search(text):
        return AutotaskThrottled(
            "Autotask's hourly API request limit for this database has been reached (it is shared with every "
            "other integration). The sync stops here and continues automatically once the limit resets." + said,
            kind="hourly", retry_after=retry_after, status=status, errors=errors, entity=entity)
    if _PERMISSION.search(text) or status == 403:
        return AutotaskPermissionError(
            f"The Autotask API user is not allowed to do this in {where}. Ask your Autotask administrator to "
            "review the API user's security level (and that it is assigned to every Line of Business)." + said,
            status=status, errors=errors, entity=entity)
    if _AUTH.search(text) or status == 401:
        return AutotaskAuthError(
            "Autotask did not accept the sync's API user: check the Autotask user name, secret and integration "
            "code stored for this stack." + said,
            status=status, errors=errors, entity=entity)
    if status == 429:
        return AutotaskThrottled(
            f"{where} asked the sync to slow down. The sync waits and retries by itself." + said,
            kind="rate", retry_after=retry_after, status=status, errors=errors, entity=entity)
    if status in GATEWAY_STATUSES:
        return AutotaskUnavailable(
            f"{where} is temporarily unavailable (HTTP {status}). The sync retries by itself; if this persists, "
            "check Autotask's status page." + said,
            status=status, errors=errors, entity=entity, retry_after=retry_after, uncertain=status != 503)
    if status == 500 and (not refused or _TRANSIENT.search(text)):
        return AutotaskUnavailable(
            f"{where} had an internal error (HTTP 500) that was not a refusal of the request. The sync retries by "
            "itself; if this persists, check Autotask's status page." + said,
            status=status, errors=errors, entity=entity, retry_after=retry_after, uncertain=True)
    if status == 404 or (status == 500 and _MISSING_RECORD.search(text)):
        return AutotaskNotFound(f"{where} could not find the record or resource asked for." + said,
                                status=status, errors=errors, entity=entity)
    return AutotaskValidationError(
        f"{where} refused the request (HTTP {status})." + (said or " It gave no reason."),
        status=status, errors=errors, entity=entity)
