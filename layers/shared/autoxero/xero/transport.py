"""Calling Xero through the official xero-python SDK, with what it lacks added around it.

- every call has a timeout (the SDK sets none) and urllib3's own silent retries are off (we decide);
- 429 `minute` waits Retry-After and retries; 429 `day` stops the flow (XeroDayLimitReached);
  5xx, timeouts and dropped connections retry with backoff — bounded in count and in time, and well inside the
  six minutes Xero keeps an Idempotency-Key, so a resent write is always recognised; a write answered 500 is
  not resent at all (Xero replays a cached internal error under its key);
- responses are read raw (JSON numbers as Decimal), never into the SDK's models (unknown-enum defect);
- the minute budget is shared by every function of the stack: when Xero says few calls are left this
  minute, the client waits instead of spending the last ones (a 429 is handled, but never the plan).

The call itself, `XeroClient._call`, and what is read and written with it are xero/client.py's.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import certifi
import urllib3
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import ApiException
from xero_python.identity import IdentityApi

from autoxero.observability import logger
from autoxero.redaction import redact
from autoxero.xero.errors import (
    XeroApiError,
    XeroDayLimitReached,
    XeroError,
    XeroNotFound,
    XeroRateLimited,
)

TokenGetter = Callable[[], dict[str, Any]]

_TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
NETWORK_ERRORS = (urllib3.exceptions.HTTPError, TimeoutError, ConnectionError, OSError)


class _NoRetryPoolManager(urllib3.PoolManager):
    """urllib3 retries a timed-out PUT on its own by default; retries are ours to decide."""

    def urlopen(self, method: str, url: str, redirect: bool = True, **kw: Any) -> Any:  # type: ignore[override]
        kw["retries"] = False
        return super().urlopen(method, url, redirect=redirect, **kw)


@dataclass
class Headroom:
    """What Xero's last answer said is left; None until a call has been made."""

    minute: int | None = None
    day: int | None = None
    app_minute: int | None = None

    def note(self, headers: Any) -> None:
        for attr, name in (("minute", "X-MinLimit-Remaining"), ("day", "X-DayLimit-Remaining"),
                           ("app_minute", "X-AppMinLimit-Remaining")):
            value = _header(headers, name)
            if value is not None and value.lstrip("-").isdigit():
                setattr(self, attr, int(value))


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    getter = getattr(headers, "get", None)
    if getter is None:
        return None
    value = getter(name) or getter(name.lower())
    return str(value) if value is not None else None


class XeroTransport:
    """One organisation's SDK clients, and what to do with each answer: retry, wait, or raise."""

    def __init__(self, token_getter: TokenGetter, tenant_id: str | None, *, api_url: str, identity_url: str,
                 sleep: Callable[[float], None] = time.sleep, timeout: tuple[float, float] = (5.0, 30.0),
                 max_retries: int = 4, max_wait_seconds: float = 180.0, minute_reserve: int = 3,
                 low_headroom_pause: float = 15.0, rng: random.Random | None = None,
                 on_unauthorized: Callable[[str], None] | None = None) -> None:
        configuration = Configuration()
        # Configuration() hands out copies of the first instance made in a process, sharing its token object
        # (xero-python 15.2.0): give each client its own. No client secret: the SDK never refreshes by itself.
        configuration.oauth2_token = OAuth2Token()
        self._api_client = ApiClient(configuration, pool_threads=1, oauth2_token_getter=token_getter,
                                     oauth2_token_saver=lambda token: None)
        self._api_client.rest_client.pool_manager = _NoRetryPoolManager(
            num_pools=4, maxsize=4, cert_reqs="CERT_REQUIRED", ca_certs=certifi.where())
        self._accounting = AccountingApi(self._api_client, base_url=api_url)
        self._identity = IdentityApi(self._api_client, base_url=identity_url)
        self._tenant_id = tenant_id
        self._sleep = sleep
        self._timeout = timeout
        self._max_retries = max_retries
        self._max_wait = max_wait_seconds
        self._minute_reserve = minute_reserve
        self._low_headroom_pause = low_headroom_pause
        self._rng = rng or random.Random()
        self._on_unauthorized = on_unauthorized
        self._token_getter = token_getter
        self.headroom = Headroom()
        self.calls: Counter[str] = Counter()
        self.rate_limit_waits = 0
        self.waited_seconds = 0.0

    @property
    def tenant_id(self) -> str | None:
        return self._tenant_id

    # ------------------------------------------------------------------ what a call's answer means

    def _classify(self, operation: str, err: ApiException, attempt: int, waited: float, *, keyed: bool) -> float:
        status = int(getattr(err, "status", 0) or 0)
        headers = getattr(err, "headers", None)
        self.headroom.note(headers)
        if status == 429:
            problem = (_header(headers, "X-Rate-Limit-Problem") or "minute").lower()
            retry_after = float(_header(headers, "Retry-After") or 60)
            if problem == "day":
                raise XeroDayLimitReached(
                    f"Xero's daily limit of API calls for this organisation is used up; syncing resumes in "
                    f"about {retry_after / 3600:.1f} hours", problem, retry_after)
            self.rate_limit_waits += 1
            if attempt >= self._max_retries or waited + retry_after > self._max_wait:
                raise XeroRateLimited(f"Xero kept answering 'too many requests' ({problem})", problem, retry_after)
            logger.info("xero rate limited", operation=operation, problem=problem, retry_after=retry_after)
            return retry_after
        if status == 500 and keyed:
            # Xero caches an internal error under the Idempotency-Key and replays it for six minutes, and the
            # write may have taken effect: a resend is useless inside that window and unsafe after it.
            raise XeroError(f"Xero failed internally during {operation}; it is not known whether the write took "
                            "effect, so it is not resent now: the next run looks the records up before writing")
        if status in _TRANSIENT_STATUS or status == 0:
            return self._backoff(operation, f"HTTP {status}", attempt, waited)
        if status == 401 and self._on_unauthorized is not None and attempt == 0:
            # Xero rejected a token our clock still thinks valid (clock skew, or revoked): renew it once.
            self._on_unauthorized(str(self._token_getter().get("access_token") or ""))
            return 0.0
        body = _body_json(err)
        if status == 404:
            raise XeroNotFound(f"Xero has no such record ({operation})", 404)
        messages = validation_messages(body)
        detail = "; ".join(messages) or str(body.get("Message") or body.get("Detail") or getattr(err, "reason", ""))
        raise XeroApiError(redact(f"Xero refused {operation}: {detail}"), status, messages)

    def _backoff(self, operation: str, why: str, attempt: int, waited: float) -> float:
        if attempt >= self._max_retries:
            raise XeroError(f"Xero did not answer {operation} after {attempt + 1} attempts ({why})")
        delay = min(30.0, self._rng.uniform(0, 2 ** attempt))
        if waited + delay > self._max_wait:
            raise XeroError(f"gave up on Xero {operation} after waiting {waited:.0f} s ({why})")
        logger.info("xero call retried", operation=operation, why=why, attempt=attempt + 1)
        return delay

    def _pace(self) -> None:
        remaining = self.headroom.minute
        if remaining is not None and remaining <= self._minute_reserve:
            self.rate_limit_waits += 1
            self.waited_seconds += self._low_headroom_pause
            self._sleep(self._low_headroom_pause)
            self.headroom.minute = None  # the next answer tells us where the window is now


def _body_json(err: ApiException) -> dict[str, Any]:
    try:
        answer = json.loads(getattr(err, "body", None) or b"{}", parse_float=Decimal)
    except (ValueError, TypeError):
        return {}
    return answer if isinstance(answer, dict) else {}


def validation_messages(element: dict[str, Any]) -> list[str]:
    messages = [str(e.get("Message")) for e in element.get("ValidationErrors") or [] if e.get("Message")]
    for nested in element.get("Elements") or []:
        messages.extend(validation_messages(nested))
    for line in element.get("LineItems") or []:
        if isinstance(line, dict):
            messages.extend(validation_messages(line))
    return list(dict.fromkeys(messages))
