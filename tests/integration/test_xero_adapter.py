"""The Xero adapter against the Xero sandbox: tokens under a lease, retries, batches, idempotency, connect."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from autoxero.secrets import SecretStore
from autoxero.xero.client import XeroClient, quote_where
from autoxero.xero.connect import ConnectService
from autoxero.xero.errors import XeroDayLimitReached, XeroError, XeroReconnectRequired
from autoxero.xero.models import Invoice
from autoxero.xero.tokens import TokenManager
from sandbox.xero.testing import XeroSandbox

CREDS = {"client_id": "SANDBOXCLIENTID0000000000000000", "client_secret": "sandbox-xero-client-secret"}


@pytest.fixture(scope="module")
def xero():
    with XeroSandbox.start(frozen=False) as sandbox:
        yield sandbox


@pytest.fixture
def fresh(xero):
    xero.reset()
    xero.control().delete("/_sandbox/faults")
    yield xero
    xero.control().delete("/_sandbox/faults")


@pytest.fixture
def store(stack):
    return SecretStore(stack.client("secretsmanager"), max_age=300)


def seed(stack, store, xero, *, expires_in: float = 1800, extra: dict | None = None) -> dict:
    token = xero.token(scope="offline_access accounting.transactions accounting.contacts accounting.settings")
    token["expires_at"] = time.time() + expires_in
    token.update(extra or {})
    store.write(stack.physical["XeroSecret"], {**CREDS, "tenant_id": xero.tenant_id, "token_set": token})
    return token


def manager(stack, store, state, xero, **kw) -> TokenManager:
    return TokenManager(store, stack.physical["XeroSecret"], state.leases, token_url=f"{xero.url}/connect/token",
                        clock=time.time, **kw)


def client(tokens: TokenManager, xero, sleeps: list[float] | None = None, **kw) -> XeroClient:
    record = sleeps if sleeps is not None else []
    return XeroClient(tokens.sdk_token, xero.tenant_id, api_url=f"{xero.url}/api.xro/2.0",
                      identity_url=xero.url, sleep=record.append, **kw)


def faults(xero, *rules: dict) -> None:
    answer = xero.control().post("/_sandbox/faults", json={"rules": list(rules), "seed": 1})
    assert answer.status_code == 200, answer.text


def invoice(number: str, account: str = "200", contact_id: str | None = None, xero=None) -> dict:
    return {"Type": "ACCREC", "InvoiceNumber": number, "Contact": {"ContactID": contact_id},
            "Date": "2026-11-01", "DueDate": "2026-11-21", "Status": "DRAFT", "LineAmountTypes": "Exclusive",
            "LineItems": [{"Description": "Managed services", "Quantity": 2, "UnitAmount": 125.5,
                           "AccountCode": account}]}


def a_contact_id(api: XeroClient) -> str:
    return next(c.ContactID for c in api.contacts() if c.ContactStatus == "ACTIVE")


class TestTokens:
    def test_ten_concurrent_invocations_across_expiry_refresh_once(self, fresh, stack, store, state):
        seed(stack, store, fresh, expires_in=30)  # inside the refresh margin: everyone wants a new token
        before = fresh.sim.token_refreshes
        errors: list[BaseException] = []
        names: list[str] = []
        barrier = threading.Barrier(10)

        def invocation() -> None:
            try:
                own_store = SecretStore(stack.client("secretsmanager"), max_age=300)  # one per Lambda container
                api = client(manager(stack, own_store, state, fresh, sleep=time.sleep), fresh)
                barrier.wait()
                names.append(api.organisation().Name)
            except BaseException as err:
                errors.append(err)

        threads = [threading.Thread(target=invocation) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert names == ["Harbour IT Ltd"] * 10
        assert fresh.sim.token_refreshes - before == 1
        assert fresh.sim.invalid_grants == 0
        stored = store.read(stack.physical["XeroSecret"], fresh=True)["token_set"]
        assert stored["expires_at"] > time.time() + 1700

    def test_a_token_xero_calls_expired_is_renewed_once(self, fresh, stack, store, state):
        seed(stack, store, fresh)  # valid for 30 minutes by our clock
        tokens = manager(stack, store, state, fresh)
        api = XeroClient(tokens.sdk_token, fresh.tenant_id, api_url=f"{fresh.url}/api.xro/2.0",
                         identity_url=fresh.url, on_unauthorized=tokens.rejected)
        fresh.sim.clock.advance(31 * 60)  # but Xero's clock says it has expired
        try:
            assert api.organisation().Name == "Harbour IT Ltd"
        finally:
            fresh.sim.clock.advance(-31 * 60)
        assert tokens.refreshes == 1 and api.calls["get_organisations"] == 2

    def test_extra_keys_in_the_stored_token_set_do_not_break_refresh(self, fresh, stack, store, state):
        seed(stack, store, fresh, expires_in=10, extra={"saved_by": "autoxero", "note": "extra"})
        tokens = manager(stack, store, state, fresh)
        assert client(tokens, fresh).organisation().Name == "Harbour IT Ltd"
        assert tokens.refreshes == 1

    def test_revoked_refresh_token_asks_for_reconnect_without_leaking_it(self, fresh, stack, store, state, log_lines):
        token = seed(stack, store, fresh, expires_in=10, extra={"refresh_token": "not-a-real-refresh-token-123"})
        tokens = manager(stack, store, state, fresh)
        with pytest.raises(XeroReconnectRequired) as err:
            tokens.token_set()
        assert "autoxero connect xero" in str(err.value)
        assert "not-a-real-refresh-token-123" not in str(err.value)
        text, _ = log_lines()
        assert token["access_token"] not in text and "not-a-real-refresh-token-123" not in text

    def test_refresh_asks_for_no_scope_so_the_grant_is_kept(self, fresh, stack, store, state):
        # The stored scope is the string the code exchange answered; it must never go out letter by letter.
        token = seed(stack, store, fresh, expires_in=10)
        assert isinstance(token["scope"], str)
        tokens = manager(stack, store, state, fresh)
        assert client(tokens, fresh).organisation().Name == "Harbour IT Ltd"
        refreshed = store.read(stack.physical["XeroSecret"], fresh=True)["token_set"]
        assert tokens.refreshes == 1 and refreshed["scope"] == token["scope"]

    def test_invalid_scope_asks_for_a_reconnect_instead_of_a_retry(self, fresh, stack, store, state):
        seed(stack, store, fresh, expires_in=10)
        faults(fresh, {"kind": "status", "status": 400, "method": "POST", "path": "/connect/token",
                       "body": {"error": "invalid_scope"}})
        with pytest.raises(XeroReconnectRequired, match="invalid_scope"):
            manager(stack, store, state, fresh).token_set()

    def test_a_token_endpoint_that_hangs_gives_up_before_the_refresh_lease_lapses(self, fresh, stack, store, state):
        seed(stack, store, fresh, expires_in=10)
        faults(fresh, {"kind": "timeout", "latency": 5.0, "method": "POST", "path": "/connect/token"})
        tokens = manager(stack, store, state, fresh, lease_seconds=1.2)
        with pytest.raises(XeroError, match="did not answer") as err:
            tokens.token_set()
        assert not isinstance(err.value, XeroReconnectRequired)  # a hang is retried by the next run
        assert tokens.refreshes == 0

    def test_custom_connection_uses_client_credentials(self, fresh, stack, store, state):
        store.write(stack.physical["XeroSecret"], {**CREDS})
        tokens = manager(stack, store, state, fresh, kind="custom_connection")
        api = XeroClient(tokens.sdk_token, None, api_url=f"{fresh.url}/api.xro/2.0", identity_url=fresh.url)
        assert api.organisation().Name == "Harbour IT Ltd"
        stored = store.read(stack.physical["XeroSecret"], fresh=True)["token_set"]
        assert not stored.get("refresh_token")


class TestResilience:
    @pytest.fixture
    def api(self, fresh, stack, store, state):
        seed(stack, store, fresh)
        self.sleeps: list[float] = []
        return client(manager(stack, store, state, fresh), fresh, self.sleeps, timeout=(2.0, 1.0))

    def test_minute_limit_waits_retry_after_then_succeeds(self, api, fresh):
        faults(fresh, {"kind": "status", "status": 429, "nth": 1, "path": "*/Organisation",
                       "headers": {"Retry-After": "7", "X-Rate-Limit-Problem": "minute"}, "body": {}})
        assert api.organisation().Name == "Harbour IT Ltd"
        assert self.sleeps == [7.0]
        assert api.calls["get_organisations"] == 2

    def test_day_limit_stops_cleanly(self, api, fresh):
        faults(fresh, {"kind": "status", "status": 429, "path": "*/Organisation",
                       "headers": {"Retry-After": "3600", "X-Rate-Limit-Problem": "day"}, "body": {}})
        with pytest.raises(XeroDayLimitReached, match="daily limit"):
            api.organisation()
        assert api.calls["get_organisations"] == 1 and self.sleeps == []

    def test_server_errors_retry_a_bounded_number_of_times(self, api, fresh):
        faults(fresh, {"kind": "status", "status": 503, "path": "*/Organisation"})
        with pytest.raises(XeroError, match="after 5 attempts"):
            api.organisation()
        assert api.calls["get_organisations"] == 5 and len(self.sleeps) == 4

    def test_a_write_xero_failed_internally_is_not_resent_under_its_key(self, api, fresh):
        # Xero caches an internal error under the Idempotency-Key and replays it for six minutes, and the
        # write may have taken effect: resending is useless inside the window and unsafe after it.
        contact = a_contact_id(api)
        fresh.sim.fail_internally(after_write=True)
        with pytest.raises(XeroError, match="not known whether"):
            api.create_invoices([invoice("INT-500", contact_id=contact)])
        assert api.calls["create_invoices"] == 1 and self.sleeps == []
        assert len(api.invoices_by_number(["INT-500"])) == 1  # it did take effect: the next run's look-up finds it

    def test_transient_faults_are_survived(self, api, fresh):
        # Rules are tried in order; each counts only the calls that reach it, so nth=1 each means
        # the first call gets a 502, the second a dropped connection, the third a timeout.
        faults(fresh, {"kind": "status", "status": 502, "nth": 1, "path": "*/Organisation"},
               {"kind": "drop", "nth": 1, "path": "*/Organisation"},
               {"kind": "timeout", "latency": 3.0, "nth": 1, "path": "*/Organisation"})
        assert api.organisation().Name == "Harbour IT Ltd"
        assert api.calls["get_organisations"] == 4

    def test_low_minute_headroom_pauses_instead_of_tripping_a_429(self, api, fresh):
        fresh.control().post("/_sandbox/limits", json={"minute": 5})
        try:
            for _ in range(3):
                api.accounts()
        finally:
            fresh.control().post("/_sandbox/limits", json={"minute": 60})
        assert api.rate_limit_waits >= 1 and 15.0 in self.sleeps


class TestWrites:
    @pytest.fixture
    def api(self, fresh, stack, store, state):
        seed(stack, store, fresh)
        return client(manager(stack, store, state, fresh), fresh)

    def test_one_bad_record_does_not_stop_the_batch(self, api):
        contact = a_contact_id(api)
        outcomes = api.create_invoices([invoice("AT-1", contact_id=contact), invoice("AT-2", "999", contact),
                                        invoice("AT-3", contact_id=contact)])
        assert [o.ok for o in outcomes] == [True, False, True]
        assert any("999" in message or "Account code" in message for message in outcomes[1].errors)
        assert outcomes[0].record.InvoiceNumber == "AT-1" and outcomes[0].record.InvoiceID
        assert api.calls["create_invoices"] == 1

    def test_batches_of_fifty(self, api):
        contact = a_contact_id(api)
        outcomes = api.create_invoices([invoice(f"B-{i}", contact_id=contact) for i in range(120)])
        assert all(o.ok for o in outcomes) and len(outcomes) == 120
        assert api.calls["create_invoices"] == 3
        assert len(api.invoices_by_number([f"B-{i}" for i in range(120)])) == 120

    def test_a_repeated_batch_writes_nothing_twice(self, api, fresh):
        contact = a_contact_id(api)
        batch = [invoice("IDEM-1", contact_id=contact)]
        first = api.create_invoices(batch)
        second = api.create_invoices(batch)  # e.g. a retry after a lost answer
        assert first[0].record.InvoiceID == second[0].record.InvoiceID
        assert len(api.invoices_by_number(["IDEM-1"])) == 1

    def test_where_quoting_survives_hostile_names(self, api):
        name = "Ngā 'Tāngata' O'Brien \\ Trust (a\\b) OR Name!=x"
        [created] = api.create_contacts([{"Name": name}])
        assert created.ok, created.errors
        found = list(api.contacts(where=f"Name=={quote_where(name)}"))
        assert [c.Name for c in found] == [name]
        with pytest.raises(ValueError, match="double quote"):  # Xero's filter has no way to write one
            quote_where('Ngā "Tāngata"')


def test_unknown_enum_values_and_ms_dates_do_not_crash_a_read():
    record = Invoice.model_validate({"InvoiceID": "x", "Type": "ACCREC", "Status": "SOMETHING_NEW",
                                     "Date": "/Date(1795651200000+0000)/", "Total": 10.5,
                                     "LineAmountTypes": "BrandNewType", "NewField": {"a": 1}})
    assert record.Status == "SOMETHING_NEW" and str(record.Date) == "2026-11-26"


OTHER = "0f0e0d0c-0b0a-4909-8807-060504030201"


class TestConnect:
    @pytest.fixture
    def service(self, fresh, stack, store, state, clock):
        store.write(stack.physical["XeroSecret"], {**CREDS, "webhook_key": "k"})
        return ConnectService(state, store, stack.physical["XeroSecret"],
                              login_url=f"{fresh.url}/identity/connect/authorize",
                              token_url=f"{fresh.url}/connect/token", identity_url=fresh.url,
                              redirect_uri="https://example.test/live/xero/callback",
                              scopes=["offline_access", "accounting.invoices"], clock=clock)

    def approve(self, location: str, tenants: str | None = None) -> dict[str, str]:
        if tenants:
            location += f"&tenants={tenants}"  # the organisations the person ticks on Xero's consent screen
        answer = httpx.get(location, follow_redirects=False, timeout=10)
        assert answer.status_code in (302, 303), answer.text
        query = parse_qs(urlparse(answer.headers["location"]).query)
        return {k: v[0] for k, v in query.items()}

    def test_full_flow_stores_tokens_and_one_tenant(self, service, store, stack, fresh):
        token = service.issue_setup_token()
        started = service.start(token)
        assert started.status == 302 and "state=" in started.location
        granted = self.approve(started.location)
        done = service.finish(code=granted["code"], state=granted["state"])
        assert done.status == 200 and "Harbour IT Ltd" in done.reason
        secret = store.read(stack.physical["XeroSecret"], fresh=True)
        assert secret["tenant_id"] == fresh.tenant_id and secret["token_set"]["refresh_token"]
        assert secret["webhook_key"] == "k"  # other fields kept
        # the setup token is single-use
        assert service.start(token).status == 403

    def test_binds_the_organisation_approved_now_not_an_earlier_connection(self, service, store, stack, fresh):
        fresh.sim.add_tenant(OTHER, "Another Customer Ltd")
        try:
            fresh.token(tenants=[OTHER])  # the same Xero user connected another customer's organisation before
            started = service.start(service.issue_setup_token())
            done = service.finish(**self.approve(started.location))
            assert done.status == 200 and "Harbour IT Ltd" in done.reason, done.reason
            assert store.read(stack.physical["XeroSecret"], fresh=True)["tenant_id"] == fresh.tenant_id
        finally:
            fresh.sim.remove_tenant(OTHER)

    def test_several_organisations_in_one_approval_are_refused(self, service, store, stack, fresh):
        fresh.sim.add_tenant(OTHER, "Another Customer Ltd")
        try:
            started = service.start(service.issue_setup_token())
            done = service.finish(**self.approve(started.location, tenants=f"{fresh.tenant_id},{OTHER}"))
            assert done.status == 400 and "2 Xero organisations" in done.reason
            assert "Another Customer Ltd" in done.reason and "Nothing was changed" in done.reason
            assert "token_set" not in store.read(stack.physical["XeroSecret"], fresh=True)
        finally:
            fresh.sim.remove_tenant(OTHER)

    def test_the_setup_token_starts_one_approval_only(self, service):
        token = service.issue_setup_token()
        assert service.start(token).status == 302
        assert service.start(token).status == 403

    def test_an_older_approval_finishing_late_does_not_repoint_the_stack(self, service, store, stack, fresh, clock):
        fresh.sim.add_tenant(OTHER, "Another Customer Ltd")
        try:
            older = self.approve(service.start(service.issue_setup_token()).location, tenants=OTHER)
            clock.advance(5)
            newer = self.approve(service.start(service.issue_setup_token()).location)
            assert service.finish(**newer).status == 200
            bound = store.read(stack.physical["XeroSecret"], fresh=True)
            late = service.finish(**older)
            assert late.status == 409 and "Nothing was changed" in late.reason
            after = store.read(stack.physical["XeroSecret"], fresh=True)
            assert after["tenant_id"] == fresh.tenant_id and after["token_set"] == bound["token_set"]
        finally:
            fresh.sim.remove_tenant(OTHER)

    def test_refuses_without_setup_token(self, service, store, stack):
        assert service.start(None).status == 403
        assert service.start("guess").status == 403
        assert "token_set" not in store.read(stack.physical["XeroSecret"], fresh=True)

    def test_wrong_reused_or_expired_state_changes_nothing(self, service, store, stack, clock):
        started = service.start(service.issue_setup_token())
        granted = self.approve(started.location)
        assert service.finish(code=granted["code"], state="forged").status == 400
        clock.advance(601)
        assert service.finish(code=granted["code"], state=granted["state"]).status == 400
        assert "token_set" not in store.read(stack.physical["XeroSecret"], fresh=True)

    def test_state_is_single_use(self, service):
        started = service.start(service.issue_setup_token())
        granted = self.approve(started.location)
        assert service.finish(code=granted["code"], state=granted["state"]).status == 200
        assert service.finish(code=granted["code"], state=granted["state"]).status == 400


def test_client_never_puts_secrets_in_messages(fresh, stack, store, state):
    token = seed(stack, store, fresh)
    api = client(manager(stack, store, state, fresh), fresh)
    with pytest.raises(XeroError) as err:
        api.create_invoices.__self__._call(api._accounting, "get_invoice", "not-a-guid")
    assert token["access_token"] not in str(err.value)
    assert json.dumps(str(err.value))
