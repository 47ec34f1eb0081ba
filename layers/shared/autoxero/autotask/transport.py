"""Talking to Autotask's REST API (v1.0): zone discovery, one request, and the retry policy around it.

- zone discovery once (`GET {lookup}/v1.0/zoneInformation?user=…`, no auth headers), cached for a day in the
  state table; a 401 on a cached zone re-discovers once and retries (pitfall 22);
- at most 3 requests in flight per endpoint through a `Limiter` (DynamoDB-backed across invocations), and
  the pacer's share of the database's hourly budget;
- retries with exponential back-off and full jitter on 429, Itgenatr005 (whatever the status), 502/503/504,
  timeouts and broken connections, honouring `Retry-After`, bounded by attempts and total time; never on
  auth, permission or validation errors. Creates are retried only when the request certainly was not
  processed, so a retry can never create a record twice;
- JSON numbers parsed as `Decimal`; a `calls` counter per (method, entity); debug logs without secrets.

What is read and written through it is autotask/client.py's.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Self

import httpx
from pydantic import ValidationError

from autoxero.autotask.errors import (
    AutotaskAuthError,
    AutotaskError,
    AutotaskThrottled,
    AutotaskUnavailable,
    classify,
)
from autoxero.autotask.limiter import Limiter, LocalLimiter
from autoxero.autotask.models import ThresholdInformation, Zone
from autoxero.autotask.pacing import Pacer
from autoxero.autotask.query import dumps, loads
from autoxero.autotask.zone import ZoneCache
from autoxero.config import AUTOTASK_ZONE_LOOKUP_URL
from autoxero.observability import logger
from autoxero.redaction import MASK, redact
from autoxero.secrets.documents import AutotaskCredentials

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
USER_AGENT = "autoxero"
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_MAX_RETRY_SECONDS = 60.0
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_ENTITY_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def _error_texts(response: httpx.Response) -> list[str]:
    """Autotask's `{"errors": [...]}`, ASP.NET's `{"Message": ...}`, or the start of the raw text."""
    try:
        data = loads(response.content) if response.content else None
    except ValueError:
        data = None
    if isinstance(data, Mapping):
        lower = {str(k).lower(): v for k, v in data.items()}
        errors = lower.get("errors")
        if isinstance(errors, list) and errors:
            return [str(e.get("message", e)) if isinstance(e, Mapping) else str(e) for e in errors]
        for key in ("message", "error", "title"):
            if isinstance(lower.get(key), str) and lower[key]:
                return [lower[key]]
    text = response.text.strip()
    return [text[:500]] if text else []


def _is_refusal(response: httpx.Response) -> bool:
    """Autotask's own refusal shape: a JSON object with a non-empty `errors` array (see errors.classify)."""
    try:
        data = loads(response.content) if response.content else None
    except ValueError:
        return False
    if not isinstance(data, Mapping):
        return False
    errors = {str(k).lower(): v for k, v in data.items()}.get("errors")
    return isinstance(errors, list) and bool(errors)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def entity_name(name: str) -> str:
    """An entity name is a single URL segment (it goes into the path as-is)."""
    if not isinstance(name, str) or not _ENTITY_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not an Autotask entity name")
    return name


class AutotaskTransport:
    """One Autotask API user's requests to its tenant: zone, limits, pacing, retries. Thread-safe."""

    def __init__(self, credentials: AutotaskCredentials, *, zone_lookup_url: str = AUTOTASK_ZONE_LOOKUP_URL,
                 zone_cache: ZoneCache | None = None, limiter: Limiter | None = None,
                 http: httpx.Client | None = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                 sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None, max_attempts: int = DEFAULT_MAX_ATTEMPTS,
                 max_retry_seconds: float = DEFAULT_MAX_RETRY_SECONDS, backoff_base: float = 0.5,
                 backoff_cap: float = 20.0, pacer: Pacer | None = None) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.credentials = credentials
        self.zone_lookup_url = zone_lookup_url.rstrip("/")
        self._zone_cache = zone_cache
        self._limiter: Limiter = limiter if limiter is not None else LocalLimiter()
        self.pacer = pacer
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT})
        self._timeout = timeout
        self._sleep = sleep
        self._monotonic = monotonic
        self._rng = rng or random.Random()
        self.max_attempts = max_attempts
        self.max_retry_seconds = max_retry_seconds
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._zone_lock = threading.RLock()
        self._base_url: str | None = None
        self._zone_from_cache = False
        self._stats_lock = threading.Lock()
        self.calls: Counter[tuple[str, str]] = Counter()  # HTTP requests made, per (method, entity)
        self.retries = 0

    @classmethod
    def from_secret(cls, secret: Mapping[str, Any], **kwargs: Any) -> Self:
        try:
            credentials = AutotaskCredentials.model_validate(dict(secret))
        except ValidationError:
            raise AutotaskAuthError("The stored Autotask credentials are incomplete: a user name, secret and "
                                    "integration code are all needed.") from None
        return cls(credentials, **kwargs)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def total_calls(self) -> int:
        with self._stats_lock:
            return sum(self.calls.values())

    # --- zone --------------------------------------------------------------------------------------

    def zone(self) -> Zone:
        """Ask Autotask which zone (base URL) this API user lives in. Not cached: see `base_url`."""
        data = self._call("GET", "zoneInformation", url=f"{self.zone_lookup_url}/v1.0/zoneInformation",
                          params={"user": self.credentials.username}, auth=False)
        try:
            zone = Zone.model_validate(data)
        except ValidationError:
            raise AutotaskAuthError("Autotask's zone lookup gave no address for this API user.") from None
        self._check_zone_url(zone.url)
        return zone

    def _check_zone_url(self, url: str) -> None:
        parsed = httpx.URL(url)
        insecure_ok = httpx.URL(self.zone_lookup_url).scheme == "http" or parsed.host in _LOOPBACK
        if parsed.scheme != "https" and not (parsed.scheme == "http" and insecure_ok):
            raise AutotaskAuthError("Autotask's zone lookup returned an address the sync will not send "
                                    "credentials to (not HTTPS).")

    def _discover(self) -> str:
        zone = self.zone()
        base = zone.url.rstrip("/") + "/v1.0"
        if self._zone_cache is not None:
            self._zone_cache.put(self.credentials.username, base)
        logger.debug("autotask zone discovered", extra={"zone": zone.zoneName, "base_url": base})
        return base

    @property
    def base_url(self) -> str:
        """`https://webservicesN.autotask.net/atservicesrest/v1.0`: cached, else discovered once."""
        with self._zone_lock:
            if self._base_url is None:
                cached = self._zone_cache.get(self.credentials.username) if self._zone_cache else None
                if cached:
                    self._check_zone_url(cached)
                    self._base_url, self._zone_from_cache = cached, True
                else:
                    self._base_url, self._zone_from_cache = self._discover(), False
            return self._base_url

    def _rediscover_after_401(self, stale: str) -> bool:
        """After a 401 on a cached zone: discover once more. True if there is a (possibly) new base to try."""
        with self._zone_lock:
            if self._base_url != stale:
                return True  # another thread already re-discovered
            if not self._zone_from_cache:
                return False
            logger.info("autotask 401 on the cached zone; discovering the zone again")
            self._base_url, self._zone_from_cache = self._discover(), False
            return True

    # --- transport ---------------------------------------------------------------------------------

    def _count(self, method: str, entity: str) -> None:
        with self._stats_lock:
            self.calls[(method, entity)] += 1

    def _scrub(self, text: str) -> str:
        secret = self.credentials.secret.get_secret_value()
        return redact(text.replace(secret, MASK) if secret else text)

    def _send_once(self, method: str, entity: str, url: str, *, body: Any, params: Mapping[str, str] | None,
                   auth: bool, endpoint: str, paced: bool = True) -> Any:
        if auth and paced and self.pacer is not None:
            self.pacer.take(self._read_threshold)
        headers = {"Accept": "application/json"}
        if auth:
            headers.update(self.credentials.headers())
        content: bytes | None = None
        if body is not None:
            content = dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        slot: AbstractContextManager[None] = self._limiter.slot(endpoint) if auth else nullcontext()
        started = self._monotonic()
        with slot:
            self._count(method, entity)
            try:
                response = self._http.request(method, url, headers=headers, content=content, params=params,
                                              timeout=self._timeout)
            except httpx.TimeoutException as exc:
                sent = not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
                raise AutotaskUnavailable(f"Autotask ({entity}) did not answer in time.", entity=entity,
                                          uncertain=sent) from None
            except httpx.RequestError as exc:
                sent = not isinstance(exc, httpx.ConnectError)
                raise AutotaskUnavailable(f"Autotask ({entity}) could not be reached or broke off the connection "
                                          f"({type(exc).__name__}).", entity=entity, uncertain=sent) from None
        logger.debug("autotask request", extra={
            "method": method, "entity": entity, "path": httpx.URL(url).path, "status": response.status_code,
            "ms": round((self._monotonic() - started) * 1000)})
        if response.is_success:
            try:
                return loads(response.content) if response.content else None
            except ValueError:
                raise AutotaskUnavailable(f"Autotask ({entity}) sent an answer that is not valid JSON.",
                                          status=response.status_code, entity=entity, uncertain=True) from None
        errors = [self._scrub(text) for text in _error_texts(response)]
        raise classify(response.status_code, errors, entity=entity, retry_after=_retry_after(response),
                       refused=_is_refusal(response))

    def _delay(self, err: AutotaskError, attempt: int) -> float:
        if err.retry_after is not None:
            return err.retry_after
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        return self._rng.uniform(0.0, ceiling)

    @staticmethod
    def _safe_to_repeat(err: AutotaskError) -> bool:
        """For a create: was the request certainly not processed? (Then a retry cannot duplicate it.)"""
        if isinstance(err, AutotaskThrottled):
            return True
        return isinstance(err, AutotaskUnavailable) and not err.uncertain

    def _call(self, method: str, entity: str, path: str | None = None, *, url: str | None = None,
              body: Any = None, params: Mapping[str, str] | None = None, auth: bool = True,
              endpoint: str | None = None, idempotent: bool = True, paced: bool = True) -> Any:
        started = self._monotonic()
        attempt = 0
        rediscovered = False
        while True:
            attempt += 1
            base = self.base_url if url is None else ""
            target = url if url is not None else f"{base}/{path}"
            try:
                return self._send_once(method, entity, target, body=body, params=params, auth=auth,
                                       endpoint=endpoint or entity, paced=paced)
            except AutotaskAuthError as err:
                if (err.status == 401 and auth and url is None and not rediscovered
                        and self._rediscover_after_401(base)):
                    rediscovered = True
                    attempt -= 1  # the zone moved: not a retry of a failure on Autotask's side
                    continue
                err.attempts = attempt
                raise
            except AutotaskError as err:
                err.attempts = attempt
                if not err.retryable or (not idempotent and not self._safe_to_repeat(err)):
                    raise
                delay = self._delay(err, attempt)
                elapsed = self._monotonic() - started
                if attempt >= self.max_attempts or elapsed + delay > self.max_retry_seconds:
                    logger.warning("autotask request gave up", extra={
                        "method": method, "entity": entity, "attempts": attempt, "error": type(err).__name__,
                        "status": err.status, "retry_after": err.retry_after})
                    raise
                with self._stats_lock:
                    self.retries += 1
                logger.info("autotask request retried", extra={
                    "method": method, "entity": entity, "attempt": attempt, "error": type(err).__name__,
                    "status": err.status, "delay": round(delay, 3)})
                self._sleep(delay)

    def _read_threshold(self) -> ThresholdInformation:
        # Not paced: it is what the pacer reads (and it accounts for it).
        data = self._call("GET", "ThresholdInformation", "ThresholdInformation", paced=False)
        return ThresholdInformation.model_validate(data)
