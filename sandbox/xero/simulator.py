"""The Xero simulator's state and request pipeline (authentication, tenant, limits, idempotency, envelope)."""

from __future__ import annotations

import copy
import threading
import traceback
import uuid
from collections.abc import Callable
from typing import Any

from sandbox.core import CallLog, FaultInjector, SandboxClock

from . import payload as schema
from .api import Call
from .contacts import render_contact, upsert_contact
from .documents import CREDIT_NOTES, INVOICES, PURCHASE_ORDERS, render_document, save_document
from .idempotency import (
    KEYED_METHODS,
    MAX_KEY_LENGTH,
    IdempotencyKeys,
    StoredAnswer,
    different_request_message,
    fingerprint,
)
from .limits import RateLimiter
from .oauth import DEFAULT_CREDENTIALS, AuthServer
from .org import Org, Record, WriteContext
from .payments import create_allocation, create_payment, render_allocation, render_payment
from .reference import (
    load_account,
    load_branding_theme,
    load_currency,
    load_item,
    load_organisation,
    load_tax_rate,
    load_tracking_category,
    render_account,
    render_branding_theme,
    render_currency,
    render_item,
    render_organisation,
    render_tax_rate,
    render_tracking_category,
)
from .webhooks import WebhookHub
from .wire import XeroError, dumps, ms_envelope, parse_stored_instant, problem, truncate_ms

Handler = Callable[[WriteContext, Call], tuple[int, dict[str, Any]]]
RESOURCE_COLLECTION = {"CONTACT": "Contacts", "INVOICE": "Invoices", "CREDITNOTE": "CreditNotes"}
JSON = "application/json; charset=utf-8"


class Reply:
    """What the pipeline hands back to the web layer."""

    def __init__(self, status: int, body: bytes, media_type: str = JSON, headers: dict[str, str] | None = None):
        self.status = status
        self.body = body
        self.media_type = media_type
        self.headers = headers or {}


def error_reply(error: XeroError, headers: dict[str, str] | None = None) -> Reply:
    merged = dict(headers or {}) | error.headers
    if isinstance(error.body, str):
        return Reply(error.status, error.body.encode(), "text/plain; charset=utf-8", merged)
    return Reply(error.status, dumps(error.body), JSON, merged)


class XeroSimulator:
    """In-memory Xero: identity service, Accounting API, webhooks. Thread-safe; share one per server."""

    def __init__(self, clock: SandboxClock, *, minute_limit: int = 60, concurrent_limit: int = 5,
                 day_limit: int = 5000, settlement_events: bool = False) -> None:
        self.clock = clock
        self.faults = FaultInjector()
        self.calls = CallLog()
        self.lock = threading.RLock()
        self.limiter = RateLimiter(clock, minute_limit, concurrent_limit, day_limit)
        self._default_limits = (minute_limit, concurrent_limit, day_limit)
        self.auth = AuthServer(clock)
        self.webhooks = WebhookHub()
        self.provider_name = "autoxero"
        self.public_base_url = "https://api.xero.com"
        self._gate = threading.Event()
        self._gate.set()
        self._fixture: dict[str, Any] = {}
        self._extra_tenants: list[tuple[str, str, dict[str, Any]]] = []
        self.orgs: dict[str, Org] = {}
        self.errors: list[str] = []  # unexpected exceptions, for debugging a test run
        self.idempotency = IdempotencyKeys()
        # Xero's webhooks spec (tests/contract/specs/xero-webhooks.yaml) has CONTACT, INVOICE, CREDITNOTE and
        # SUBSCRIPTION events, UPDATE "when an existing resource is updated", and nothing about payments: whether
        # applying or removing a payment (or an allocation) emits an INVOICE UPDATE is unverified. Off unless a
        # test or the bench asks for it; the payments poll is what autoxero relies on.
        self.settlement_events = settlement_events
        self._default_settlement_events = settlement_events
        self._internal_errors: list[bool] = []  # armed internal errors: True = after the write was applied
        self._build_orgs()

    # ------------------------------------------------------------------ configuration

    @property
    def credentials(self) -> dict[str, str]:
        return self.auth.credentials

    @property
    def tenant_id(self) -> str:
        return self.auth.credentials["tenant_id"]

    @property
    def token_refreshes(self) -> int:
        return self.auth.token_refreshes

    @property
    def invalid_grants(self) -> int:
        return self.auth.invalid_grants

    def _set_credentials(self, creds: dict[str, Any]) -> None:
        merged = dict(self.auth.credentials)
        merged.update({k: str(v) for k, v in creds.items() if v is not None and k in DEFAULT_CREDENTIALS})
        merged["tenant_id"] = merged["tenant_id"].lower()
        self.auth.credentials = merged
        if creds.get("provider_name"):
            self.provider_name = str(creds["provider_name"])

    def load_credentials(self, creds: dict[str, Any]) -> None:
        """client_id, client_secret, webhook_key, tenant_id, tenant_name (and optionally provider_name)."""
        with self.lock:
            self._set_credentials(creds)
            self._build_orgs()

    def load(self, data: dict[str, Any]) -> None:
        """Load a fixture: the whole fixture (`{"xero": …, "sandbox": {"xero": creds}}`) or its "xero" section."""
        whole = isinstance(data, dict) and "xero" in data
        section = data["xero"] if whole else data
        creds = (data.get("sandbox") or {}).get("xero") if whole else None
        with self.lock:
            if creds:
                self._set_credentials(creds)
            self._fixture = copy.deepcopy(section or {})
            self._build_orgs()

    def add_tenant(self, tenant_id: str, tenant_name: str, data: dict[str, Any] | None = None) -> None:
        """Another organisation the sandbox user can authorise (multi-tenant tests)."""
        with self.lock:
            self._extra_tenants.append((tenant_id.lower(), tenant_name, copy.deepcopy(data or {})))
            self._build_orgs()

    def remove_tenant(self, tenant_id: str) -> None:
        with self.lock:
            self._extra_tenants = [t for t in self._extra_tenants if t[0] != tenant_id.lower()]
            self.orgs.pop(tenant_id.lower(), None)

    def set_limits(self, *, minute: int | None = None, concurrent: int | None = None, day: int | None = None) -> None:
        self.limiter.configure(minute=minute, concurrent=concurrent, day=day)

    def reset(self) -> None:
        """Back to the last loaded fixture: tokens, connections, webhooks, limits, call log and faults cleared."""
        with self.lock:
            self.auth.reset()
            self.limiter.reset()
            minute, concurrent, day = self._default_limits
            self.limiter.configure(minute=minute, concurrent=concurrent, day=day)
            self.webhooks.reset()
            self.calls.reset()
            self.faults.clear()
            self.errors.clear()
            self.idempotency.reset()
            self.settlement_events = self._default_settlement_events
            self._internal_errors.clear()
            self._gate.set()
            self._build_orgs()

    def hold(self) -> None:
        """Keep API calls in flight (after they pass the limiter) until `release()` — to test the concurrency limit."""
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def fail_internally(self, times: int = 1, *, after_write: bool = False) -> None:
        """The next `times` writes (POST/PUT/PATCH) error out inside Xero (500), before or after their write
        took effect; under an Idempotency-Key that 500 is what Xero replays for six minutes."""
        with self.lock:
            self._internal_errors.extend([after_write] * times)

    def tenants(self) -> dict[str, str]:
        return {tid: org.tenant_name for tid, org in self.orgs.items()}

    def issue_token_set(self, scope: str = "openid profile email offline_access accounting.transactions "
                        "accounting.contacts accounting.settings", tenants: list[str] | None = None) -> dict[str, Any]:
        """A fresh token set as the code exchange would give it, with the organisations connected."""
        chosen = [t.lower() for t in tenants] if tenants else [self.tenant_id]
        event = self.auth.connect(chosen, self.tenants())
        return self.auth._issue(scope, with_refresh="offline_access" in scope.split(), auth_event_id=event)

    # ------------------------------------------------------------------ building state

    def _build_orgs(self) -> None:
        creds = self.auth.credentials
        self.orgs = {}
        primary = Org(creds["tenant_id"], creds.get("tenant_name", "Harbour IT Ltd"))
        self._populate(primary, self._fixture)
        self.orgs[primary.tenant_id] = primary
        for tenant_id, name, data in self._extra_tenants:
            org = Org(tenant_id, name)
            self._populate(org, data)
            self.orgs[tenant_id] = org

    def _populate(self, org: Org, data: dict[str, Any]) -> None:
        now = truncate_ms(self.clock.now())
        load_organisation(org, data.get("Organisation") or data.get("Organisations"), now)
        for raw in data.get("Currencies") or [{"Code": org.base_currency, "Description": org.base_currency}]:
            load_currency(org, raw, now)
        for raw in data.get("TaxRates") or []:
            load_tax_rate(org, raw, now)
        for raw in data.get("Accounts") or []:
            load_account(org, raw, now)
        for raw in data.get("TrackingCategories") or []:
            load_tracking_category(org, raw, now)
        for raw in data.get("BrandingThemes") or []:
            load_branding_theme(org, raw, now)
        for raw in data.get("Items") or []:
            load_item(org, raw, now)
        ctx = WriteContext(org, now, unitdp=4, trusted=True)
        for raw in data.get("Contacts") or []:
            record, _ = upsert_contact(ctx, schema.CONTACT.read(raw, "Contacts"), None)
            self._stamp(org.contacts, record["ContactID"], raw, now)
        for collection, kind, element in (("Invoices", INVOICES, schema.INVOICE),
                                          ("CreditNotes", CREDIT_NOTES, schema.CREDIT_NOTE),
                                          ("PurchaseOrders", PURCHASE_ORDERS, schema.PURCHASE_ORDER)):
            for raw in data.get(collection) or []:
                record, _ = save_document(ctx, kind, element.read(raw, collection), None)
                self._stamp(kind.records(org), record[kind.id_field], raw, now)
        for raw in data.get("Payments") or []:
            payment = create_payment(ctx, schema.PAYMENT.read(raw, "Payments"))
            self._stamp(org.payments, payment["PaymentID"], raw, now)
        for raw in data.get("Allocations") or []:
            note = org.credit_notes[str(raw["CreditNoteID"]).lower()]
            create_allocation(ctx, note, schema.ALLOCATION.read(raw, "Allocations"))

    @staticmethod
    def _stamp(store: dict[str, Record], key: str, raw: dict[str, Any], now: Any) -> None:
        if raw.get("UpdatedDateUTC"):
            store[key]["UpdatedDateUTC"] = truncate_ms(parse_stored_instant(raw["UpdatedDateUTC"]))

    # ------------------------------------------------------------------ the API pipeline

    def _emitter(self, org: Org, base_url: str) -> Callable[[str, str, str, dict[str, Any] | None], None]:
        def emit(category: str, event_type: str, resource_id: str, data: dict[str, Any] | None) -> None:
            url = f"{base_url}/api.xro/2.0/{RESOURCE_COLLECTION[category]}/{resource_id}"
            self.webhooks.emit(tenant_id=org.tenant_id, category=category, event_type=event_type,
                               resource_id=resource_id, resource_url=url, when=truncate_ms(self.clock.now()),
                               data=data)
        return emit

    def _envelope(self, body: dict[str, Any]) -> bytes:
        head = {"Id": str(uuid.uuid4()), "Status": "OK", "ProviderName": self.provider_name,
                "DateTimeUTC": ms_envelope(self.clock.now())}
        return dumps(head | body)

    def handle_api(self, call: Call, handler: Handler, *, envelope: bool = True) -> Reply:
        """Authenticate, pick the organisation, apply the limits, then run the operation under the state lock."""
        self.calls.record(call.method, call.route)
        base = call.base_url.rstrip("/")
        try:
            token = self.auth.check_access(call.headers.get("authorization"))
            tenant = self.auth.tenant_for(token, call.headers.get("xero-tenant-id"))
            org = self.orgs.get(tenant)
            if org is None:
                raise XeroError(403, problem(403, "Forbidden", "AuthorizationUnsuccessful"))
        except XeroError as error:
            return error_reply(error)
        decision = self.limiter.acquire(tenant)
        if not decision.allowed:
            detail = f"You have exceeded the {decision.problem} rate limit"
            return Reply(429, dumps(problem(429, "Too Many Requests", detail)), JSON, decision.headers)
        try:
            self._gate.wait(timeout=60)
            reply = self._run(org, call, handler, base, envelope)
        finally:
            self.limiter.release(tenant)
        reply.headers = decision.headers | {"Xero-Correlation-Id": str(uuid.uuid4())} | reply.headers
        return reply

    def _run(self, org: Org, call: Call, handler: Handler, base: str, envelope: bool) -> Reply:
        key = call.headers.get("idempotency-key") if call.method in KEYED_METHODS else None
        with self.lock:
            now = self.clock.now()
            if key is not None:
                if len(key) > MAX_KEY_LENGTH or not key.strip():
                    return error_reply(XeroError(400, {
                        "ErrorNumber": 10, "Type": "ValidationException",
                        "Message": f"Idempotency Key: {key} is {len(key)} characters long; "
                                   f"the maximum is {MAX_KEY_LENGTH}."}))
                request = fingerprint(call.method, call.path, call.query, call.body, org.tenant_id)
                stored = self.idempotency.find(key, now)
                if stored is not None and stored.fingerprint != request:
                    return error_reply(XeroError(400, {
                        "ErrorNumber": 10, "Type": "ValidationException",
                        "Message": different_request_message(key)}))
                if stored is not None:
                    return Reply(stored.status, stored.body, stored.media_type)
            reply = self._execute(org, call, handler, base, envelope)
            if key is not None:
                self.idempotency.keep(key, StoredAnswer(reply.status, reply.body, reply.media_type, request, now))
            return reply

    def _execute(self, org: Org, call: Call, handler: Handler, base: str, envelope: bool) -> Reply:
        ctx = WriteContext(org, truncate_ms(self.clock.now()), unitdp=call.unitdp, emit=self._emitter(org, base),
                           settlement_events=self.settlement_events)
        armed = self._internal_errors and call.method in KEYED_METHODS
        internal_error = self._internal_errors.pop(0) if armed else None
        try:
            if internal_error is False:
                raise RuntimeError("sandbox: injected internal error")
            status, body = handler(ctx, call)
            if internal_error:
                raise RuntimeError("sandbox: injected internal error after the write")
            return Reply(status, self._envelope(body) if envelope else dumps(body))
        except XeroError as error:
            return error_reply(error)
        except Exception as exc:  # never let a request take the simulator down
            if internal_error is None:
                self.errors.append(traceback.format_exc())
            return Reply(500, dumps(problem(500, "An error occurred", f"{type(exc).__name__}: {exc}")))

    # ------------------------------------------------------------------ inspection

    def state(self, entity: str, tenant: str | None = None) -> list[dict[str, Any]]:
        """Every record of an entity, rendered as the API would (with line items, 4 decimal places)."""
        org = self.orgs[(tenant or self.tenant_id).lower()]
        with self.lock:
            renderers: dict[str, Callable[[], list[dict[str, Any]]]] = {
                "Contacts": lambda: [render_contact(r) for r in org.contacts.values()],
                "Invoices": lambda: [render_document(org, INVOICES, r, unitdp=4) for r in org.invoices.values()],
                "CreditNotes": lambda: [render_document(org, CREDIT_NOTES, r, unitdp=4)
                                        for r in org.credit_notes.values()],
                "PurchaseOrders": lambda: [render_document(org, PURCHASE_ORDERS, r, unitdp=4)
                                           for r in org.purchase_orders.values()],
                "Payments": lambda: [render_payment(org, r) for r in org.payments.values()],
                "Allocations": lambda: [render_allocation(org, r, with_status=False)
                                        for r in org.allocations.values()],
                "Items": lambda: [render_item(r, 4) for r in org.items.values()],
                "Accounts": lambda: [render_account(r) for r in org.accounts.values()],
                "TaxRates": lambda: [render_tax_rate(r) for r in org.tax_rates.values()],
                "TrackingCategories": lambda: [render_tracking_category(r, include_archived=True)
                                               for r in org.tracking.values()],
                "BrandingThemes": lambda: [render_branding_theme(r) for r in org.branding.values()],
                "Currencies": lambda: [render_currency(r) for r in org.currencies.values()],
                "Organisation": lambda: [render_organisation(org)],
            }
            match = next((k for k in renderers if k.lower() == entity.lower()), None)
            if match is None:
                raise KeyError(entity)
            return renderers[match]()
