"""The Xero adapter: the official xero-python SDK for requests and auth, with what it lacks added around it.

- every call has a timeout (the SDK sets none) and urllib3's own silent retries are off (we decide);
- 429 `minute` waits Retry-After and retries; 429 `day` stops the flow (XeroDayLimitReached);
  5xx, timeouts and dropped connections retry with backoff — bounded in count and in time, and well inside the
  six minutes Xero keeps an Idempotency-Key, so a resent write is always recognised; a write answered 500 is
  not resent at all (Xero replays a cached internal error under its key);
- responses are read raw into autoxero's tolerant models, never the SDK's (unknown-enum defect);
- writes go in batches of at most 50 with summarizeErrors=false and an Idempotency-Key derived from the
  batch's content, and come back as one outcome per record;
- the minute budget is shared by every function of the stack: when Xero says few calls are left this
  minute, the client waits instead of spending the last ones (a 429 is handled, but never the plan).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import certifi
import urllib3
from pydantic import BaseModel
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import ApiException
from xero_python.identity import IdentityApi

from autoxero.observability import logger
from autoxero.redaction import redact
from autoxero.xero import models
from autoxero.xero.errors import (
    XeroApiError,
    XeroDayLimitReached,
    XeroError,
    XeroNotFound,
    XeroRateLimited,
)

BATCH_SIZE = 50
PAGE_SIZE = 100
IDS_PER_CALL = 50  # IDs= is capped near 52 GUIDs by URL length
M = TypeVar("M", bound=BaseModel)
TokenGetter = Callable[[], dict[str, Any]]

_TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
_NETWORK_ERRORS = (urllib3.exceptions.HTTPError, TimeoutError, ConnectionError, OSError)


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


@dataclass(frozen=True, slots=True)
class WriteOutcome[T]:
    """One record's result in a batch write: the record Xero returned, or Xero's messages."""

    index: int
    record: T | None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.record is not None and not self.errors


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    getter = getattr(headers, "get", None)
    if getter is None:
        return None
    value = getter(name) or getter(name.lower())
    return str(value) if value is not None else None


def content_key(scope: str, body: Any) -> str:
    """A deterministic Idempotency-Key: the same batch content always carries the same key."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return f"autoxero-{scope}-{digest[:48]}"


def quote_where(value: str) -> str:
    """A string literal for Xero's `where` filter. Xero's strings have no escapes (XeroAPI/Xero-Java#347: a
    backslash-escaped quote is a 400 "Syntax error"): a backslash stands for itself, and text containing a
    `"` cannot be looked up this way at all, so it is refused here (autoxero writes none: see
    `mapping.common.findable`)."""
    if '"' in value:
        raise ValueError(f"Xero's where filter cannot express text containing a double quote: {value!r}")
    return f'"{value}"'


class XeroClient:
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

    # ------------------------------------------------------------------ the one way a call is made

    def _call(self, api: Any, operation: str, *args: Any, tenant: bool = True, **kwargs: Any) -> dict[str, Any]:
        method = getattr(api, operation)
        params = {k: v for k, v in kwargs.items() if v is not None}
        attempt = 0
        waited = 0.0
        while True:
            self._pace()
            self.calls[operation] += 1
            try:
                call_args = ((self._tenant_id or "",) if tenant else ()) + args
                response, _status, headers = method(*call_args, _preload_content=False,
                                                    _return_http_data_only=False,
                                                    _request_timeout=self._timeout, **params)
                self.headroom.note(headers)
                raw = response.data or b"{}"
                answer = json.loads(raw, parse_float=Decimal)
                return answer if isinstance(answer, dict) else {"items": answer}
            except ApiException as err:
                delay = self._classify(operation, err, attempt, waited, keyed="idempotency_key" in params)
            except _NETWORK_ERRORS as err:
                delay = self._backoff(operation, f"network error ({type(err).__name__})", attempt, waited)
            attempt += 1
            waited += delay
            self.waited_seconds += delay
            self._sleep(delay)

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
        messages = _validation_messages(body)
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

    # ------------------------------------------------------------------ reads

    def _records(self, answer: dict[str, Any], key: str, model: type[M]) -> list[M]:
        return [model.model_validate(item) for item in answer.get(key) or []]

    def pages(self, operation: str, key: str, model: type[M], **params: Any) -> Iterator[M]:
        """Every page of a paged GET (with line items), until a short page."""
        page = 1
        while True:
            records = self._records(self._call(self._accounting, operation, page=page, page_size=PAGE_SIZE,
                                               **params), key, model)
            yield from records
            if len(records) < PAGE_SIZE:
                return
            page += 1

    def invoices_by_id(self, ids: Iterable[str]) -> list[models.Invoice]:
        wanted = list(dict.fromkeys(ids))
        found: list[models.Invoice] = []
        for start in range(0, len(wanted), IDS_PER_CALL):
            answer = self._call(self._accounting, "get_invoices", i_ds=wanted[start:start + IDS_PER_CALL],
                                page=1, page_size=PAGE_SIZE, unitdp=4)
            found.extend(self._records(answer, "Invoices", models.Invoice))
        return found

    def invoices_by_number(self, numbers: Iterable[str], statuses: list[str] | None = None) -> list[models.Invoice]:
        wanted = list(dict.fromkeys(numbers))
        found: list[models.Invoice] = []
        for start in range(0, len(wanted), IDS_PER_CALL):
            answer = self._call(self._accounting, "get_invoices",
                                invoice_numbers=wanted[start:start + IDS_PER_CALL], statuses=statuses,
                                page=1, page_size=PAGE_SIZE, unitdp=4)
            found.extend(self._records(answer, "Invoices", models.Invoice))
        return found

    def invoices(self, *, where: str | None = None, modified_since: datetime | None = None,
                 statuses: list[str] | None = None) -> Iterator[models.Invoice]:
        return self.pages("get_invoices", "Invoices", models.Invoice, where=where, statuses=statuses,
                          if_modified_since=modified_since, unitdp=4)

    def contacts(self, *, where: str | None = None, ids: list[str] | None = None,
                 include_archived: bool = True, modified_since: datetime | None = None) -> Iterator[models.Contact]:
        return self.pages("get_contacts", "Contacts", models.Contact, where=where, i_ds=ids,
                          include_archived=include_archived, if_modified_since=modified_since)

    def credit_notes(self, *, where: str | None = None,
                     modified_since: datetime | None = None) -> Iterator[models.CreditNote]:
        return self.pages("get_credit_notes", "CreditNotes", models.CreditNote, where=where,
                          if_modified_since=modified_since, unitdp=4)

    def purchase_orders(self, *, modified_since: datetime | None = None) -> Iterator[models.PurchaseOrder]:
        return self.pages("get_purchase_orders", "PurchaseOrders", models.PurchaseOrder,
                          if_modified_since=modified_since)

    def purchase_order(self, *, purchase_order_id: str | None = None,
                       number: str | None = None) -> models.PurchaseOrder | None:
        """One purchase order by id or by number (Xero has no IDs= filter for them)."""
        try:
            if purchase_order_id:
                answer = self._call(self._accounting, "get_purchase_order", purchase_order_id)
            else:
                answer = self._call(self._accounting, "get_purchase_order_by_number", number)
        except XeroNotFound:
            return None
        records = self._records(answer, "PurchaseOrders", models.PurchaseOrder)
        return records[0] if records else None

    def payments(self, *, modified_since: datetime | None = None,
                 where: str | None = None) -> Iterator[models.Payment]:
        return self.pages("get_payments", "Payments", models.Payment, if_modified_since=modified_since, where=where)

    def accounts(self) -> list[models.Account]:
        return self._records(self._call(self._accounting, "get_accounts"), "Accounts", models.Account)

    def tax_rates(self) -> list[models.TaxRate]:
        return self._records(self._call(self._accounting, "get_tax_rates"), "TaxRates", models.TaxRate)

    def items(self) -> list[models.Item]:
        return self._records(self._call(self._accounting, "get_items", unitdp=4), "Items", models.Item)

    def tracking_categories(self) -> list[models.TrackingCategory]:
        return self._records(self._call(self._accounting, "get_tracking_categories"), "TrackingCategories",
                             models.TrackingCategory)

    def branding_themes(self) -> list[models.BrandingTheme]:
        return self._records(self._call(self._accounting, "get_branding_themes"), "BrandingThemes",
                             models.BrandingTheme)

    def currencies(self) -> list[models.Currency]:
        return self._records(self._call(self._accounting, "get_currencies"), "Currencies", models.Currency)

    def organisation(self) -> models.Organisation:
        records = self._records(self._call(self._accounting, "get_organisations"), "Organisations",
                                models.Organisation)
        if not records:
            raise XeroError("Xero returned no organisation for this connection")
        return records[0]

    def connections(self) -> list[models.Connection]:
        answer = self._call(self._identity, "get_connections", tenant=False)
        return [models.Connection.model_validate(c) for c in answer.get("items", [])]

    # ------------------------------------------------------------------ writes

    def write(self, operation: str, key: str, model: type[M], records: list[dict[str, Any]],
              **params: Any) -> list[WriteOutcome[M]]:
        """Batches of at most 50, summarizeErrors=false, one outcome per record in the order given."""
        outcomes: list[WriteOutcome[M]] = []
        for start in range(0, len(records), BATCH_SIZE):
            chunk = records[start:start + BATCH_SIZE]
            body = {key: chunk}
            answer = self._call(self._accounting, operation, body, summarize_errors=False,
                                idempotency_key=content_key(operation, body), **params)
            returned = answer.get(key) or []
            for offset in range(len(chunk)):
                index = start + offset
                if offset >= len(returned):
                    outcomes.append(WriteOutcome(index, None, ["Xero returned no result for this record"]))
                    continue
                record = model.model_validate(returned[offset])
                errors = _validation_messages(returned[offset])
                failed = bool(errors) or returned[offset].get("StatusAttributeString") == "ERROR"
                outcomes.append(WriteOutcome(index, None if failed else record,
                                             errors or (["Xero rejected this record"] if failed else [])))
        return outcomes

    def create_contacts(self, contacts: list[dict[str, Any]]) -> list[WriteOutcome[models.Contact]]:
        return self.write("create_contacts", "Contacts", models.Contact, contacts)

    def update_contacts(self, contacts: list[dict[str, Any]]) -> list[WriteOutcome[models.Contact]]:
        return self.write("update_or_create_contacts", "Contacts", models.Contact, contacts)

    def create_invoices(self, invoices: list[dict[str, Any]]) -> list[WriteOutcome[models.Invoice]]:
        return self.write("create_invoices", "Invoices", models.Invoice, invoices, unitdp=4)

    def update_invoices(self, invoices: list[dict[str, Any]]) -> list[WriteOutcome[models.Invoice]]:
        return self.write("update_or_create_invoices", "Invoices", models.Invoice, invoices, unitdp=4)

    def create_credit_notes(self, notes: list[dict[str, Any]]) -> list[WriteOutcome[models.CreditNote]]:
        return self.write("create_credit_notes", "CreditNotes", models.CreditNote, notes, unitdp=4)

    def create_purchase_orders(self, orders: list[dict[str, Any]]) -> list[WriteOutcome[models.PurchaseOrder]]:
        return self.write("create_purchase_orders", "PurchaseOrders", models.PurchaseOrder, orders)

    def update_purchase_orders(self, orders: list[dict[str, Any]]) -> list[WriteOutcome[models.PurchaseOrder]]:
        return self.write("update_or_create_purchase_orders", "PurchaseOrders", models.PurchaseOrder, orders)

    def create_items(self, items: list[dict[str, Any]]) -> list[WriteOutcome[models.Item]]:
        return self.write("create_items", "Items", models.Item, items, unitdp=4)


def _body_json(err: ApiException) -> dict[str, Any]:
    try:
        answer = json.loads(getattr(err, "body", None) or b"{}", parse_float=Decimal)
    except (ValueError, TypeError):
        return {}
    return answer if isinstance(answer, dict) else {}


def _validation_messages(element: dict[str, Any]) -> list[str]:
    messages = [str(e.get("Message")) for e in element.get("ValidationErrors") or [] if e.get("Message")]
    for nested in element.get("Elements") or []:
        messages.extend(_validation_messages(nested))
    for line in element.get("LineItems") or []:
        if isinstance(line, dict):
            messages.extend(_validation_messages(line))
    return list(dict.fromkeys(messages))
