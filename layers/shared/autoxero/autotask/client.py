"""The Autotask PSA REST client (v1.0): a thin, synchronous httpx adapter.

What it does for the flows (docs/autotask.md):
- zone discovery once (`GET {lookup}/v1.0/zoneInformation?user=…`, no auth headers), cached for a day in the
  state table; a 401 on a cached zone re-discovers once and retries (pitfall 22);
- queries POSTed with `MaxRecords` 500, following `pageDetails.nextPageUrl` by re-POSTing the same body, and
  falling back to id paging (`id gt <max id seen>`) if that URL is refused (404/405) or unusable (§5);
- PATCH-only updates (there is deliberately no PUT here: PUT nulls every field it is not sent, pitfall 6);
  child entities are written through their parent's URL (pitfall 13);
- at most 3 requests in flight per endpoint through a `Limiter` (DynamoDB-backed across invocations);
- retries with exponential back-off and full jitter on 429, Itgenatr005 (whatever the status), 502/503/504,
  timeouts and broken connections, honouring `Retry-After`, bounded by attempts and total time; never on
  auth, permission or validation errors. Creates are retried only when the request certainly was not
  processed, so a retry can never create a record twice;
- JSON numbers parsed as `Decimal`; a `calls` counter per (method, entity); debug logs without secrets.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, Self, TypeVar

import httpx
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from autoxero.autotask.errors import (
    AutotaskAuthError,
    AutotaskError,
    AutotaskNotFound,
    AutotaskThrottled,
    AutotaskUnavailable,
    AutotaskValidationError,
    classify,
)
from autoxero.autotask.limiter import Limiter, LocalLimiter
from autoxero.autotask.models import FieldInfo, Picklist, ThresholdInformation, Zone
from autoxero.autotask.pacing import Pacer
from autoxero.autotask.query import Filter, Query, chunked_in, dumps, loads
from autoxero.autotask.records import RecordWatcher, validate_each
from autoxero.config import AUTOTASK_ZONE_LOOKUP_URL
from autoxero.observability import logger
from autoxero.redaction import MASK, redact, register_secret
from autoxero.state.cache import Cache, CacheEntry

M = TypeVar("M", bound=BaseModel)

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_MAX_RETRY_SECONDS = 60.0
ZONE_CACHE_SECONDS = 86_400.0
ZONE_CACHE_NAME = "autotask-zone"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_PAGING_FALLBACK_STATUSES = frozenset({404, 405})
_ENTITY_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")

# Child entities are written through the parent URL, whose last segment is not always the entity's name.
_CHILD_SEGMENTS: dict[tuple[str, str], str] = {
    ("purchaseorders", "purchaseorderitems"): "Items",
    ("companies", "contacts"): "Contacts",
    **{(f"{kind}webhooks", f"{kind}webhook{child}".lower()): segment
       for kind in ("company", "contact")
       for child, segment in (("fields", "Fields"), ("udffields", "UdfFields"),
                              ("excludedresources", "ExcludedResources"))},
}


class AutotaskCredentials(BaseModel):
    """The Autotask API user (from the stack's Autotask secret). The secret never shows in a repr or log."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    username: str = Field(min_length=1)
    secret: SecretStr
    integration_code: str = Field(min_length=1)

    def model_post_init(self, context: Any, /) -> None:
        register_secret(self.secret.get_secret_value())

    def headers(self) -> dict[str, str]:
        return {"ApiIntegrationCode": self.integration_code, "UserName": self.username,
                "Secret": self.secret.get_secret_value()}


# --- zone cache ---------------------------------------------------------------------------------------

class ZoneCache(Protocol):
    """Where the discovered zone URL is kept between invocations."""

    def get(self, username: str) -> str | None: ...

    def put(self, username: str, url: str) -> None: ...


class MemoryZoneCache:
    def __init__(self) -> None:
        self._urls: dict[str, str] = {}

    def get(self, username: str) -> str | None:
        return self._urls.get(username.lower())

    def put(self, username: str, url: str) -> None:
        self._urls[username.lower()] = url


class DynamoZoneCache:
    """The zone URL in the state table (`CACHE#autotask-zone`), for a day, for the user that discovered it."""

    def __init__(self, cache: Cache, clock: Callable[[], float] = time.time,
                 ttl_seconds: float = ZONE_CACHE_SECONDS) -> None:
        self._cache = cache
        self._clock = clock
        self._ttl = ttl_seconds

    def get(self, username: str) -> str | None:
        try:
            entry = self._cache.get(ZONE_CACHE_NAME)
        except (ClientError, BotoCoreError):
            logger.warning("autotask zone cache unreadable; discovering the zone")
            return None
        if not entry or entry.owner != username.lower() or entry.expires_at <= self._clock():
            return None
        return entry.document

    def put(self, username: str, url: str) -> None:
        try:
            self._cache.put(ZONE_CACHE_NAME, CacheEntry(url, self._clock() + self._ttl, username.lower()))
        except (ClientError, BotoCoreError):
            logger.warning("autotask zone cache not written; the next invocation discovers the zone again")


# --- the client ---------------------------------------------------------------------------------------

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


def _items(page: Any) -> list[dict[str, Any]]:
    items = page.get("items") if isinstance(page, Mapping) else None
    if not isinstance(items, list):
        raise AutotaskValidationError("Autotask answered a query without an items list.")
    return items


def _next_page_url(page: Any) -> str | None:
    details = page.get("pageDetails") if isinstance(page, Mapping) else None
    url = details.get("nextPageUrl") if isinstance(details, Mapping) else None
    return url if isinstance(url, str) and url else None


def _entity(name: str) -> str:
    """An entity name is a single URL segment (it goes into the path as-is)."""
    if not isinstance(name, str) or not _ENTITY_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not an Autotask entity name")
    return name


def _max_id(items: Sequence[Mapping[str, Any]], current: int | None) -> int | None:
    for item in items:
        value = item.get("id")
        if isinstance(value, int) and not isinstance(value, bool) and (current is None or value > current):
            current = value
    return current


class AutotaskClient:
    """One Autotask API user against its tenant. Thread-safe; one per invocation is enough."""

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
        self._http = http or httpx.Client(timeout=timeout, headers={"User-Agent": "autoxero"})
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
        self._fields: dict[str, dict[str, FieldInfo]] = {}
        self._fields_lock = threading.Lock()
        self.records: RecordWatcher | None = None  # told of each record read; a flow run sets itself here

    @classmethod
    def from_secret(cls, secret: Mapping[str, Any], **kwargs: Any) -> AutotaskClient:
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

    # --- reads -------------------------------------------------------------------------------------

    def _same_origin(self, url: str) -> bool:
        """Credentials only ever go to the zone's own host."""
        try:
            candidate, base = httpx.URL(url), httpx.URL(self.base_url)
        except (httpx.InvalidURL, TypeError, ValueError):
            return False
        return (candidate.scheme in ("http", "https") and candidate.scheme == base.scheme
                and candidate.host.lower() == base.host.lower() and candidate.port == base.port
                and bool(candidate.path))

    def query(self, entity: str, query: Query) -> Iterator[dict[str, Any]]:
        """Every record matching `query`, page by page (lazily; nothing is held between pages)."""
        entity = _entity(entity)
        body = query.body()
        page = self._call("POST", entity, f"{entity}/query", body=body)
        last_id: int | None = None
        followed: set[str] = set()
        while True:
            items = _items(page)
            last_id = _max_id(items, last_id)
            yield from items
            next_url = _next_page_url(page)
            if next_url is None:
                return
            if not self._same_origin(next_url) or next_url in followed:
                logger.warning("autotask nextPageUrl unusable; paging by id", extra={"entity": entity})
                break
            followed.add(next_url)
            try:
                page = self._call("POST", entity, url=next_url, body=body)
            except AutotaskError as err:
                if err.status not in _PAGING_FALLBACK_STATUSES:
                    raise
                logger.info("autotask nextPageUrl refused; paging by id",
                            extra={"entity": entity, "status": err.status})
                break
        yield from self._query_by_id(entity, query, last_id)

    def _query_by_id(self, entity: str, query: Query, last_id: int | None) -> Iterator[dict[str, Any]]:
        if last_id is None:
            raise AutotaskValidationError(f"Autotask ({entity}) returned a page without record ids, so the "
                                          "remaining pages cannot be read.", entity=entity)
        while True:
            page_query = query.after_id(last_id)
            items = _items(self._call("POST", entity, f"{entity}/query", body=page_query.body()))
            yield from items
            new_last = _max_id(items, last_id)
            if len(items) < page_query.max_records or not items:
                return
            if new_last is None or new_last <= last_id:
                raise AutotaskValidationError(f"Autotask ({entity}) id paging made no progress.", entity=entity)
            last_id = new_last

    def query_models(self, entity: str, model: type[M], query: Query) -> Iterator[M]:
        """The matching records as `model`, validated one by one (a malformed one goes to `self.records`)."""
        yield from validate_each(entity, model, self.query(entity, query), self.records)

    def query_in(self, entity: str, model: type[M], field: str, ids: Iterable[int | str],
                 extra_filters: Sequence[Filter] = (), *, include_fields: Iterable[str] | None = None) -> Iterator[M]:
        """Records whose `field` is one of `ids`, in as few queries as the 500-OR limit allows."""
        for chunk in chunked_in(field, ids, extra=extra_filters, include_fields=include_fields):
            yield from self.query_models(entity, model, chunk)

    def count(self, entity: str, query: Query) -> int:
        entity = _entity(entity)
        data = self._call("POST", entity, f"{entity}/query/count", body={"Filter": query.body()["Filter"]})
        try:
            return int(data["queryCount"])
        except (KeyError, TypeError, ValueError):
            raise AutotaskValidationError(f"Autotask ({entity}) answered a count without a number.",
                                          entity=entity) from None

    def get(self, entity: str, item_id: int) -> dict[str, Any] | None:
        """One record by id, or None if there is none."""
        entity = _entity(entity)
        try:
            data = self._call("GET", entity, f"{entity}/{int(item_id)}")
        except AutotaskNotFound as err:
            if err.status == 404 and "no http resource" not in err.detail.lower():
                return None
            raise
        item = data.get("item") if isinstance(data, Mapping) else None
        return dict(item) if isinstance(item, Mapping) else None

    def fields(self, entity: str) -> dict[str, FieldInfo]:
        """The tenant's field rules for an entity (read-only, queryable, picklists); cached per client."""
        key = _entity(entity).lower()
        with self._fields_lock:
            cached = self._fields.get(key)
        if cached is not None:
            return cached
        data = self._call("GET", entity, f"{entity}/entityInformation/fields")
        raw = data.get("fields") if isinstance(data, Mapping) else None
        if not isinstance(raw, list):
            raise AutotaskValidationError(f"Autotask ({entity}) sent no field list.", entity=entity)
        result = {info.name: info for info in (FieldInfo.model_validate(f) for f in raw)}
        with self._fields_lock:
            self._fields[key] = result
        return result

    def picklist(self, entity: str, field: str) -> Picklist:
        wanted = field.lower()
        info = next((f for name, f in self.fields(entity).items() if name.lower() == wanted), None)
        if info is None:
            raise AutotaskValidationError(f"Autotask ({entity}) has no field called {field}.", entity=entity)
        if not info.isPickList:
            raise AutotaskValidationError(f"The Autotask field {entity}.{info.name} is not a picklist.",
                                          entity=entity)
        return info.picklist()

    def entity_information(self, entity: str) -> dict[str, Any]:
        """What the API user may do with an entity (GET {entity}/entityInformation: canQuery, canUpdate,
        userAccessForUpdate, ...; Autotask REST API "Finding resource and entity information")."""
        data = self._call("GET", entity, f"{entity}/entityInformation")
        info = data.get("info") if isinstance(data, Mapping) else None
        return dict(info) if isinstance(info, Mapping) else {}

    def udf_names(self, entity: str) -> list[str]:
        """The user-defined fields the tenant has on an entity (GET {entity}/entityInformation/userDefinedFields,
        Autotask REST API: "Finding resource and entity information and field definitions")."""
        data = self._call("GET", entity, f"{entity}/entityInformation/userDefinedFields")
        raw = data.get("fields") if isinstance(data, Mapping) else None
        return [str(f["name"]) for f in raw or [] if isinstance(f, Mapping) and f.get("name")]

    def threshold(self) -> ThresholdInformation:
        """The database's hourly request budget and its use (this call counts against it)."""
        return self._read_threshold()

    def _read_threshold(self) -> ThresholdInformation:
        # Not paced: it is what the pacer reads (and it accounts for it).
        data = self._call("GET", "ThresholdInformation", "ThresholdInformation", paced=False)
        return ThresholdInformation.model_validate(data)

    # --- writes ------------------------------------------------------------------------------------

    @staticmethod
    def _write_path(entity: str, parent: tuple[str, int] | None) -> tuple[str, str]:
        """(path, limiter endpoint) of a write: flat, or through the parent for a child entity."""
        if parent is None:
            return _entity(entity), entity
        parent_entity, parent_id = _entity(parent[0]), parent[1]
        _entity(entity)
        segment = _CHILD_SEGMENTS.get((parent_entity.lower(), entity.lower()), entity)
        return f"{parent_entity}/{int(parent_id)}/{segment}", parent_entity

    @staticmethod
    def _item_id(data: Any, entity: str) -> int:
        try:
            return int(data["itemId"])
        except (KeyError, TypeError, ValueError):
            raise AutotaskValidationError(f"Autotask ({entity}) did not say which record it wrote.",
                                          entity=entity) from None

    def patch(self, entity: str, body: Mapping[str, Any], parent: tuple[str, int] | None = None) -> int:
        """Change only the fields in `body` (which must carry the record's `id`); the record's id back.

        The only update method: PUT would null every writable field not sent (pitfall 6).
        """
        record_id = body.get("id")
        if isinstance(record_id, bool) or not isinstance(record_id, int):
            raise ValueError("a PATCH body must carry the record's integer id")
        path, endpoint = self._write_path(entity, parent)
        return self._item_id(self._call("PATCH", entity, path, body=dict(body), endpoint=endpoint), entity)

    def create(self, entity: str, body: Mapping[str, Any], parent: tuple[str, int] | None = None) -> int:
        """Create a record; a child entity (Contacts, PurchaseOrderItems) through `parent=(entity, id)`.

        Not retried once the request may have reached Autotask (timeout, broken connection, 502/504): the
        error is then `AutotaskUnavailable(uncertain=True)` and the caller must look before creating again.
        """
        path, endpoint = self._write_path(entity, parent)
        data = self._call("POST", entity, path, body=dict(body), endpoint=endpoint, idempotent=False)
        return self._item_id(data, entity)
