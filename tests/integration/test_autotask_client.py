"""The Autotask client against the Autotask simulator (sandbox/autotask), state in moto.

Retries never sleep for real: every client gets a fake clock whose `sleep` records the back-off and moves
time on, so back-off amounts are asserted exactly and the file stays fast.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from autoxero.autotask import (
    AutotaskAuthError,
    AutotaskBusy,
    AutotaskClient,
    AutotaskCredentials,
    AutotaskNotFound,
    AutotaskPermissionError,
    AutotaskThrottled,
    AutotaskUnavailable,
    AutotaskValidationError,
    DynamoLimiter,
    DynamoZoneCache,
    LocalLimiter,
    MemoryZoneCache,
    Query,
    UnlimitedLimiter,
)
from autoxero.autotask import query as q
from autoxero.autotask.limiter import slot_lease_name
from autoxero.autotask.models import BillingItem, Company, FieldInfo, Invoice
from autoxero.state import Leases, StateTable
from sandbox.autotask import AutotaskSimulator, create_app
from sandbox.autotask.simulator import OWN_COMPANY
from sandbox.autotask.testing import RunningAutotask, running_autotask
from sandbox.core import SandboxClock, serve_in_thread
from tests.integration.test_state import lease_holder

DEMO: dict[str, Any] = json.loads((Path(__file__).parents[2] / "sandbox/fixtures/demo.json").read_text())
CREDS: dict[str, str] = DEMO["sandbox"]["autotask"]
AT = DEMO["autotask"]
# Every tenant also has company 0, the MSP's own company (apigrate/autotask-restapi README: the root company).
ALL_COMPANIES = [OWN_COMPANY, *AT["Companies"]]
API = "/atservicesrest/v1.0"
CODE = CREDS["integration_code"]


class FakeTime:
    """`sleep` records and advances `monotonic`: back-off without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def monotonic(self) -> float:
        with self._lock:
            return self.now


@pytest.fixture(scope="module")
def at() -> Iterator[RunningAutotask]:
    with running_autotask(DEMO, clock=SandboxClock()) as running:
        yield running


@pytest.fixture(autouse=True)
def _clean(at: RunningAutotask) -> Iterator[None]:
    at.sim.faults.clear()
    at.sim.set_limits(thread_limit=3, hourly_limit=10_000, reset_counts=True)
    at.sim.calls.reset()
    yield
    at.sim.faults.clear()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(at: RunningAutotask, fake_time: FakeTime) -> Iterator[Callable[..., AutotaskClient]]:
    made: list[AutotaskClient] = []

    def make(**kwargs: Any) -> AutotaskClient:
        creds = kwargs.pop("credentials", None) or AutotaskCredentials(**CREDS)
        kwargs.setdefault("zone_lookup_url", f"{at.url}/atservicesrest")
        kwargs.setdefault("sleep", fake_time.sleep)
        kwargs.setdefault("monotonic", fake_time.monotonic)
        kwargs.setdefault("rng", random.Random(42))
        client = AutotaskClient(creds, **kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def fault(at: RunningAutotask, *rules: dict[str, Any]) -> None:
    at.sim.faults.configure(list(rules))


def sim_calls(at: RunningAutotask) -> dict[str, int]:
    return at.sim.calls.snapshot()["calls"]


def calls(client: AutotaskClient, method: str, entity: str) -> int:
    return client.calls[(method, entity)]


# --- zone discovery -----------------------------------------------------------------------------------

def test_zone_is_discovered_once_and_cached_in_the_table(at, make_client, state, clock):
    cache = DynamoZoneCache(state.cache, state.table.now)
    first = make_client(zone_cache=cache)
    assert first.get("Companies", AT["Companies"][0]["id"])["companyName"] == AT["Companies"][0]["companyName"]
    first.get("Companies", AT["Companies"][1]["id"])
    assert calls(first, "GET", "zoneInformation") == 1
    assert first.base_url == f"{at.url}/atservicesrest/v1.0"
    assert state.cache.get("autotask-zone").document == first.base_url

    second = make_client(zone_cache=cache)
    second.get("Companies", AT["Companies"][0]["id"])
    assert calls(second, "GET", "zoneInformation") == 0          # no zone call at all
    assert sim_calls(at)[f"GET {API}/zoneInformation"] == 1

    clock.advance(86_401)                                         # the cached zone is a day old
    third = make_client(zone_cache=cache)
    third.get("Companies", AT["Companies"][0]["id"])
    assert calls(third, "GET", "zoneInformation") == 1


def test_zone_cache_is_per_api_user(at, make_client, state):
    cache = DynamoZoneCache(state.cache, state.table.now)
    cache.put("someone-else@example.com", "https://webservices9.autotask.net/atservicesrest/v1.0")
    client = make_client(zone_cache=cache)
    client.get("Companies", AT["Companies"][0]["id"])
    assert calls(client, "GET", "zoneInformation") == 1


def test_a_401_on_a_cached_zone_rediscovers_once_and_retries(at, make_client):
    # The tenant "moved": the cached zone is another Autotask that does not know this secret (401 there).
    old = AutotaskSimulator(SandboxClock())
    old.load_credentials({**CREDS, "secret": "the-old-zones-secret"})
    old_server = serve_in_thread(create_app(old))
    try:
        cache = MemoryZoneCache()
        cache.put(CREDS["username"], f"{old_server.url}/atservicesrest/v1.0")
        client = make_client(zone_cache=cache)
        companies = list(client.query("Companies", Query.all()))
        assert len(companies) == len(ALL_COMPANIES)
        assert calls(client, "GET", "zoneInformation") == 1
        assert calls(client, "POST", "Companies") == 2                # 401 on the old zone, then the new one
        assert old.calls.snapshot()["calls"] == {f"POST {API}/Companies/query": 1}
        assert cache.get(CREDS["username"]) == f"{at.url}/atservicesrest/v1.0"
    finally:
        old_server.stop()


def test_unknown_user_fails_at_zone_discovery(make_client):
    client = make_client(credentials=AutotaskCredentials(username="nobody@example.com", secret="whatever-secret",
                                                         integration_code=CODE))
    with pytest.raises(AutotaskAuthError, match="user name, secret and integration code"):
        client.get("Companies", 1)
    assert dict(client.calls) == {("GET", "zoneInformation"): 1}


# --- auth errors: never retried, never show the secret -------------------------------------------------

WRONG_SECRET = "wrong-secret-Zq8x7Kp2"


def test_wrong_secret_is_an_auth_error_after_exactly_one_call(at, make_client, fake_time):
    creds = AutotaskCredentials(username=CREDS["username"], secret=WRONG_SECRET, integration_code=CODE)
    assert WRONG_SECRET not in repr(creds)
    assert WRONG_SECRET not in str(creds)
    client = make_client(credentials=creds)
    with pytest.raises(AutotaskAuthError) as caught:
        list(client.query("Companies", Query.all()))
    assert calls(client, "POST", "Companies") == 1
    assert caught.value.attempts == 1
    assert caught.value.status == 401
    assert fake_time.sleeps == []
    for text in (str(caught.value), caught.value.detail, repr(caught.value), repr(client.credentials)):
        assert WRONG_SECRET not in text
    assert "Autotask did not accept" in str(caught.value)


def test_wrong_secret_on_a_cached_zone_rediscovers_only_once(at, make_client):
    cache = MemoryZoneCache()
    cache.put(CREDS["username"], f"{at.url}/atservicesrest/v1.0")
    creds = AutotaskCredentials(username=CREDS["username"], secret=WRONG_SECRET, integration_code=CODE)
    client = make_client(credentials=creds, zone_cache=cache)
    with pytest.raises(AutotaskAuthError):
        client.get("Companies", 1)
    assert calls(client, "GET", "Companies") == 2
    assert calls(client, "GET", "zoneInformation") == 1


def test_wrong_integration_code_is_an_auth_error_after_one_call(make_client):
    client = make_client(credentials=AutotaskCredentials(username=CREDS["username"], secret=CREDS["secret"],
                                                         integration_code="NOT-OURS"))
    with pytest.raises(AutotaskAuthError) as caught:
        client.count("Invoices", Query.all())
    assert caught.value.status == 500                               # Autotask's auth errors are 500s
    assert "IntegrationCode is invalid" in caught.value.detail
    assert calls(client, "POST", "Invoices") == 1


def test_logs_never_carry_the_secret(at, make_client, log_lines):
    from autoxero.observability import logger

    previous = logger.log_level
    logger.setLevel("DEBUG")
    try:
        good = make_client()
        good.get("Companies", AT["Companies"][0]["id"])
        fault(at, {"kind": "status", "status": 503, "path": f"{API}/Companies/query", "times": 1})
        list(good.query("Companies", Query.all()))
        bad = make_client(credentials=AutotaskCredentials(username=CREDS["username"], secret=WRONG_SECRET,
                                                          integration_code=CODE))
        with pytest.raises(AutotaskAuthError):
            bad.get("Companies", 1)
    finally:
        logger.setLevel(previous)
    text, lines = log_lines()
    assert any(line.get("message") == "autotask request" for line in lines)
    assert any(line.get("message") == "autotask request retried" for line in lines)
    assert CREDS["secret"] not in text
    assert WRONG_SECRET not in text


# --- reads --------------------------------------------------------------------------------------------

def test_paging_over_500_records_takes_two_calls(at, make_client):
    client = make_client()
    items = list(client.query("BillingItems", Query.all()))
    assert 500 < len(items) == len(AT["BillingItems"]) <= 1000
    assert len({item["id"] for item in items}) == len(items)
    assert calls(client, "POST", "BillingItems") == 2
    assert sim_calls(at) == {f"GET {API}/zoneInformation": 1, f"POST {API}/BillingItems/query": 1,
                             f"POST {API}/BillingItems/query/next": 1}
    # money never passed through float: the Decimal sum of 4-place amounts is exact
    expected = sum((Decimal(str(x["totalAmount"])) for x in AT["BillingItems"]), Decimal(0))
    assert sum((Decimal(item["totalAmount"]) for item in items), Decimal(0)) == expected
    assert any(isinstance(item["taxDollars"], Decimal) for item in items)


@pytest.mark.parametrize("status", [405, 404])
def test_next_page_refused_falls_back_to_id_paging(at, make_client, status):
    fault(at, {"kind": "status", "status": status, "probability": 1.0, "path": f"{API}/BillingItems/query/next",
               "body": {"Message": "The requested resource does not support http method 'POST'."}})
    client = make_client()
    items = list(client.query("BillingItems", Query([q.gte("id", 0)], max_records=500)))
    assert sorted(item["id"] for item in items) == sorted(x["id"] for x in AT["BillingItems"])
    assert calls(client, "POST", "BillingItems") == 3             # page 1, the refused next page, id gt <max>
    assert sim_calls(at)[f"POST {API}/BillingItems/query"] == 2


def test_id_paging_continues_until_a_short_page(at, make_client):
    fault(at, {"kind": "status", "status": 405, "probability": 1.0, "path": f"{API}/BillingItems/query/next"})
    client = make_client()
    items = list(client.query("BillingItems", Query.all(max_records=100)))
    total = len(AT["BillingItems"])
    assert 600 < total < 1100 and len({item["id"] for item in items}) == total
    # 1 page of 100, 1 refused next, then id pages of 500: 500 + the rest (short) -> done
    assert calls(client, "POST", "BillingItems") == 4


def test_next_page_url_on_another_host_is_never_called():
    requests: list[httpx.Request] = []
    rows = [{"id": i} for i in range(1, 8)]

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.url.path.endswith("zoneInformation"):
            return httpx.Response(200, json={"url": "https://webservices5.autotask.net/atservicesrest/"})
        body = json.loads(request.content)
        after = max((f["value"] for f in body["Filter"] if f["op"] == "gt"), default=0)
        page = [r for r in rows if r["id"] > after][: body["MaxRecords"]]
        return httpx.Response(200, json={"items": page, "pageDetails": {
            "count": len(page), "nextPageUrl": "https://evil.example/atservicesrest/v1.0/Companies/query/next"}})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = AutotaskClient(AutotaskCredentials(**CREDS), http=http, sleep=lambda s: None)
    items = list(client.query("Companies", Query.all(max_records=3)))
    assert [item["id"] for item in items] == [1, 2, 3, 4, 5, 6, 7]
    assert {r.url.host for r in requests} == {"webservices.autotask.net", "webservices5.autotask.net"}
    assert all("Secret" not in r.headers for r in requests if r.url.host == "webservices.autotask.net")


def test_entity_names_are_single_path_segments(make_client):
    client = make_client()
    for bad in ("../zoneInformation", "Companies/1", "", "Companies?x=1"):
        with pytest.raises(ValueError, match="entity name"):
            client.get(bad, 1)
    with pytest.raises(ValueError, match="entity name"):
        client.create("Contacts", {}, parent=("Companies/../X", 1))
    assert client.total_calls == 0


def test_include_fields_limit_the_columns_and_keep_id(make_client):
    client = make_client()
    rows = list(client.query("Companies", Query([q.eq("isActive", True)], include_fields=["companyName"])))
    assert rows
    assert all(set(row) == {"id", "companyName", "userDefinedFields"} for row in rows)
    assert len(rows) == sum(1 for c in ALL_COMPANIES if c.get("isActive", True))


def test_count(make_client):
    client = make_client()
    assert client.count("BillingItems", Query.all()) == len(AT["BillingItems"])
    voided = sum(1 for inv in AT["Invoices"] if inv.get("isVoided"))
    assert client.count("Invoices", Query([q.eq("isVoided", True)])) == voided
    assert calls(client, "POST", "Invoices") == 1


def test_get_found_missing_and_unknown_entity(make_client):
    client = make_client()
    invoice = client.get("Invoices", AT["Invoices"][0]["id"])
    assert invoice is not None
    assert Invoice.model_validate(invoice).invoiceNumber == AT["Invoices"][0]["invoiceNumber"]
    assert client.get("Invoices", 999_999_999) is None
    with pytest.raises(AutotaskNotFound):
        client.get("NoSuchEntities", 1)


def test_query_models_and_query_in_chunks(make_client):
    client = make_client()
    ids = [x["id"] for x in AT["BillingItems"]]
    items = list(client.query_in("BillingItems", BillingItem, "id", [*ids, *ids[:10]]))
    assert sorted(i.id for i in items) == sorted(ids)
    assert all(isinstance(i.totalAmount, Decimal) for i in items)
    assert calls(client, "POST", "BillingItems") == 2              # 500 + 320 ids: two queries, one page each
    active = list(client.query_in("Companies", Company, "id", [c["id"] for c in AT["Companies"]],
                                  [q.eq("isActive", True)]))
    assert all(c.isActive for c in active)
    assert list(client.query_in("Companies", Company, "id", [])) == []
    assert calls(client, "POST", "Companies") == 1


def test_fields_and_picklist_are_cached(make_client):
    client = make_client()
    fields = client.fields("Invoices")
    assert isinstance(fields["invoiceNumber"], FieldInfo)
    assert fields["invoiceNumber"].isReadOnly is False
    assert fields["comments"].isReadOnly is True
    assert fields["dueDate"].isQueryable is False
    kinds = client.picklist("Companies", "companytype")
    assert kinds.label(7) == "Vendor"
    assert kinds.value("customer") == "1"
    client.picklist("Companies", "companyType")
    client.fields("Companies")
    assert calls(client, "GET", "Companies") == 1
    with pytest.raises(AutotaskValidationError, match="not a picklist"):
        client.picklist("Companies", "companyName")


def test_threshold_information(make_client):
    client = make_client()
    client.get("Companies", AT["Companies"][0]["id"])
    info = client.threshold()
    assert info.externalRequestThreshold == 10_000
    assert info.currentTimeframeRequestCount == 2
    assert info.remaining == 9_998


# --- writes -------------------------------------------------------------------------------------------

def test_patch_changes_only_the_fields_sent(make_client):
    client = make_client()
    target = next(inv for inv in AT["Invoices"] if not inv.get("webServiceDate") and not inv.get("isVoided"))
    before = client.get("Invoices", target["id"])
    stamped = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
    assert client.patch("Invoices", {"id": target["id"], "webServiceDate": stamped,
                                     "invoiceNumber": "XERO-INV-0042"}) == target["id"]
    after = client.get("Invoices", target["id"])
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"webServiceDate", "invoiceNumber"}
    assert after["webServiceDate"] == "2026-11-03T09:30:00Z"
    assert calls(client, "PATCH", "Invoices") == 1


def test_patch_of_a_read_only_field_is_a_validation_error_not_retried(make_client, fake_time):
    client = make_client()
    with pytest.raises(AutotaskValidationError, match="read-only"):
        client.patch("Invoices", {"id": AT["Invoices"][0]["id"], "comments": "changed"})
    assert calls(client, "PATCH", "Invoices") == 1
    assert fake_time.sleeps == []


def test_patch_needs_an_id_and_there_is_no_put(make_client):
    client = make_client()
    with pytest.raises(ValueError, match="id"):
        client.patch("Invoices", {"invoiceNumber": "X"})
    assert client.total_calls == 0
    assert not hasattr(AutotaskClient, "put")
    assert not hasattr(AutotaskClient, "update")


def test_create_child_entities_through_the_parent(make_client):
    client = make_client()
    company = AT["Companies"][0]["id"]
    contact_id = client.create("Contacts", {"companyID": company, "firstName": "Aroha", "lastName": "Test",
                                            "isActive": 1}, parent=("Companies", company))
    contact = client.get("Contacts", contact_id)
    assert contact is not None
    assert (contact["companyID"], contact["firstName"]) == (company, "Aroha")

    po = next(p for p in AT["PurchaseOrders"] if p["status"] == 1)
    item_id = client.create("PurchaseOrderItems", {"orderID": po["id"], "productID": AT["Products"][0]["id"],
                                                   "quantity": 2, "unitCost": Decimal("123.4567")},
                            parent=("PurchaseOrders", po["id"]))
    item = client.get("PurchaseOrderItems", item_id)
    assert item is not None
    assert item["unitCost"] == Decimal("123.4567")

    with pytest.raises(AutotaskValidationError):                   # flat POST on a child entity: 405
        client.create("Contacts", {"companyID": company, "firstName": "A", "lastName": "B", "isActive": 1})
    assert calls(client, "POST", "Contacts") == 2


def test_create_is_not_repeated_when_the_connection_drops(at, make_client):
    fault(at, {"kind": "drop", "path": f"{API}/Companies/*/Contacts", "times": 1, "probability": 1.0})
    client = make_client()
    company = AT["Companies"][1]["id"]
    with pytest.raises(AutotaskUnavailable) as caught:
        client.create("Contacts", {"companyID": company, "firstName": "Once", "lastName": "Only", "isActive": 1},
                      parent=("Companies", company))
    assert caught.value.uncertain is True
    assert calls(client, "POST", "Contacts") == 1


def test_create_is_retried_when_autotask_certainly_did_not_process_it(at, make_client):
    fault(at, {"kind": "status", "status": 500, "path": f"{API}/Companies/*/Contacts", "times": 1,
               "probability": 1.0, "body": {"errors": ["Itgenatr005: thread threshold exceeded"]}})
    client = make_client()
    company = AT["Companies"][2]["id"]
    new_id = client.create("Contacts", {"companyID": company, "firstName": "Retry", "lastName": "Safe",
                                        "isActive": 1}, parent=("Companies", company))
    assert new_id
    assert calls(client, "POST", "Contacts") == 2


# --- retries ------------------------------------------------------------------------------------------

def test_429_with_retry_after_is_honoured(at, make_client, fake_time):
    fault(at, {"kind": "status", "status": 429, "probability": 1.0, "times": 2, "headers": {"Retry-After": "7"},
               "path": f"{API}/Invoices/query"})
    client = make_client()
    assert len(list(client.query("Invoices", Query.all()))) == len(AT["Invoices"])
    assert fake_time.sleeps == [7.0, 7.0]
    assert calls(client, "POST", "Invoices") == 3


def test_thread_threshold_in_a_500_is_retried_with_full_jitter(at, make_client, fake_time):
    fault(at, {"kind": "status", "status": 500, "probability": 1.0, "times": 3, "path": f"{API}/Invoices/query",
               "body": {"errors": ["Itgenatr005: Thread Threshold Exceeded. The Autotask API thread threshold of "
                                   "3 threads has been exceeded."]}})
    client = make_client(rng=random.Random(7))
    assert len(list(client.query("Invoices", Query.all()))) == len(AT["Invoices"])
    expected_rng = random.Random(7)
    expected = [expected_rng.uniform(0, ceiling) for ceiling in (0.5, 1.0, 2.0)]
    assert fake_time.sleeps == expected
    assert all(0 <= s <= c for s, c in zip(fake_time.sleeps, (0.5, 1.0, 2.0), strict=True))
    assert calls(client, "POST", "Invoices") == 4                   # 3 refusals, then the answer
    assert client.retries == 3


def test_503_is_retried_a_bounded_number_of_times(at, make_client, fake_time):
    fault(at, {"kind": "status", "status": 503, "probability": 1.0, "path": f"{API}/Products/query"})
    client = make_client()
    with pytest.raises(AutotaskUnavailable) as caught:
        list(client.query("Products", Query.all()))
    assert calls(client, "POST", "Products") == 5
    assert caught.value.attempts == 5
    assert len(fake_time.sleeps) == 4
    assert all(s <= min(20.0, 0.5 * 2 ** i) for i, s in enumerate(fake_time.sleeps))


def test_retries_stop_at_the_total_time_budget(at, make_client, fake_time):
    fault(at, {"kind": "status", "status": 429, "probability": 1.0, "headers": {"Retry-After": "30"},
               "path": f"{API}/Products/query"})
    client = make_client(max_attempts=10)
    with pytest.raises(AutotaskThrottled):
        list(client.query("Products", Query.all()))
    assert fake_time.sleeps == [30.0, 30.0]                         # a third wait would pass 60 s
    assert calls(client, "POST", "Products") == 3


def test_read_timeout_is_retried(at, make_client):
    fault(at, {"kind": "timeout", "latency": 1.0, "probability": 1.0, "times": 1, "path": f"{API}/Products/query"})
    client = make_client(timeout=httpx.Timeout(0.2, connect=5.0))
    assert len(list(client.query("Products", Query.all()))) == len(AT["Products"])
    assert calls(client, "POST", "Products") == 2


def test_persistent_timeouts_end_in_unavailable(at, make_client):
    fault(at, {"kind": "timeout", "latency": 1.0, "probability": 1.0, "path": f"{API}/TaxRegions/query"})
    client = make_client(timeout=httpx.Timeout(0.1, connect=5.0), max_attempts=2)
    with pytest.raises(AutotaskUnavailable, match="did not answer in time"):
        list(client.query("TaxRegions", Query.all()))
    assert calls(client, "POST", "TaxRegions") == 2


def test_dropped_connection_mid_response_is_retried(at, make_client):
    fault(at, {"kind": "drop", "probability": 1.0, "times": 2, "path": f"{API}/Products/query"})
    client = make_client()
    assert len(list(client.query("Products", Query.all()))) == len(AT["Products"])
    assert calls(client, "POST", "Products") == 3


# A 500 is not always a refusal: Autotask refuses with `{"errors": [...]}` (its PATCH page); ASP.NET Web API answers an
# unhandled server exception with `{"Message": "An error has occurred."}` (the sandbox does the same).
UNHANDLED = {"Message": "An error has occurred."}


def test_a_500_that_is_not_a_refusal_is_retried(at, make_client, fake_time):
    fault(at, {"kind": "status", "status": 500, "probability": 1.0, "times": 2, "path": f"{API}/Invoices/query",
               "body": UNHANDLED})
    client = make_client()
    assert len(list(client.query("Invoices", Query.all()))) == len(AT["Invoices"])
    assert calls(client, "POST", "Invoices") == 3 and len(fake_time.sleeps) == 2


def test_a_500_with_an_empty_body_or_a_deadlock_is_retried(at, make_client, fake_time):
    fault(at, {"kind": "status", "status": 500, "probability": 1.0, "times": 1, "path": f"{API}/Products/query",
               "body": ""},
          {"kind": "status", "status": 500, "probability": 1.0, "times": 1, "path": f"{API}/TaxRegions/query",
               "body": {"errors": ["Transaction (Process ID 71) was deadlocked on lock resources with another process "
                                   "and has been chosen as the deadlock victim. Rerun the transaction."]}})
    client = make_client()
    assert len(list(client.query("Products", Query.all()))) == len(AT["Products"])
    assert len(list(client.query("TaxRegions", Query.all()))) == len(AT["TaxRegions"])
    assert calls(client, "POST", "Products") == 2 and calls(client, "POST", "TaxRegions") == 2


def test_an_unhandled_500_on_a_create_is_not_repeated(at, make_client, fake_time):
    """The record may have been written before the server failed: look before creating again."""
    fault(at, {"kind": "status", "status": 500, "probability": 1.0, "times": 1, "body": UNHANDLED,
               "path": f"{API}/Companies/*/Contacts"})
    client = make_client()
    company = AT["Companies"][2]["id"]
    with pytest.raises(AutotaskUnavailable) as caught:
        client.create("Contacts", {"companyID": company, "firstName": "Maybe", "lastName": "Written",
                                   "isActive": 1}, parent=("Companies", company))
    assert caught.value.uncertain is True and caught.value.status == 500
    assert calls(client, "POST", "Contacts") == 1


def test_permission_error_is_not_retried(at, make_client, fake_time):
    fault(at, {"kind": "status", "status": 500, "probability": 1.0, "path": f"{API}/PurchaseOrders/query",
               "body": {"errors": ["The logged in Resource does not have the adequate permissions to query "
                                   "this entity type."]}})
    client = make_client()
    with pytest.raises(AutotaskPermissionError, match="security level"):
        list(client.query("PurchaseOrders", Query.all()))
    assert calls(client, "POST", "PurchaseOrders") == 1
    assert fake_time.sleeps == []


def test_validation_error_is_not_retried_and_says_why(make_client, fake_time):
    client = make_client()
    with pytest.raises(AutotaskValidationError) as caught:
        list(client.query("Invoices", Query([q.Filter("exist", "dueDate")])))   # not queryable (pitfall 7)
    assert "dueDate" in str(caught.value)
    assert calls(client, "POST", "Invoices") == 1
    assert fake_time.sleeps == []


def test_hourly_threshold_stops_with_throttled(at, make_client, fake_time):
    at.sim.set_limits(hourly_limit=3, reset_counts=True)
    client = make_client()
    for company in AT["Companies"][:3]:
        client.get("Companies", company["id"])
    with pytest.raises(AutotaskThrottled) as caught:
        client.get("Companies", AT["Companies"][3]["id"])
    assert caught.value.kind == "hourly"
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 60                             # beyond the retry budget: stop now
    assert fake_time.sleeps == []
    assert calls(client, "GET", "Companies") == 4
    assert "hourly API request limit" in str(caught.value)


# --- the thread limit across invocations --------------------------------------------------------------

@pytest.fixture
def atomic_moto_writes(monkeypatch):
    """DynamoDB's conditional writes are atomic; moto's are not across threads (it reads the item, parses the
    condition, then writes). Serialise moto's item operations so the test sees DynamoDB's guarantee."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("put_item", "delete_item", "update_item", "get_item"):
        original = getattr(DynamoDBBackend, name)

        def locked(self, *args, __original=original, **kwargs):
            with lock:
                return __original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


class InflightWatch:
    """The highest in-flight count the simulator saw for one endpoint, sampled while requests run."""

    def __init__(self, sim: AutotaskSimulator, endpoint: str) -> None:
        self.sim, self.endpoint, self.peak = sim, endpoint, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.sim.inflight(CODE, self.endpoint))
            time.sleep(0.001)

    def __enter__(self) -> InflightWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


class RecordingLimiter:
    """Wraps a limiter and records how many slots are held at once (what the stack believes is in flight)."""

    def __init__(self, inner: Any, record: dict[str, int], lock: threading.Lock) -> None:
        self.inner, self.record, self.lock = inner, record, lock

    def slot(self, endpoint: str):
        from contextlib import contextmanager

        @contextmanager
        def held():
            with self.inner.slot(endpoint):
                with self.lock:
                    self.record["now"] += 1
                    self.record["max"] = max(self.record["max"], self.record["now"])
                try:
                    yield
                finally:
                    with self.lock:
                        self.record["now"] -= 1

        return held()


def run_concurrently(clients: list[AutotaskClient], work: Callable[[AutotaskClient], Any]) -> list[Any]:
    barrier = threading.Barrier(len(clients))
    results: list[Any] = [None] * len(clients)

    def one(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(clients[i])
        except Exception as exc:  # reported to the test
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


SLOW_COMPANIES = {"kind": "latency", "latency": 0.15, "probability": 1.0, "path": f"{API}/Companies/query"}


def test_dynamodb_semaphore_keeps_six_invocations_within_three_threads(at, make_client, stack, clock,
                                                                      atomic_moto_writes):
    fault(at, SLOW_COMPANIES)
    record, lock = {"now": 0, "max": 0}, threading.Lock()
    limiters = [DynamoLimiter(StateTable.connect(stack.physical["StateTable"], clock=clock, region_name="us-east-1"),
                              poll=0.01) for _ in range(6)]                 # six Lambdas: own process, own table
    clients = [make_client(limiter=RecordingLimiter(lim, record, lock)) for lim in limiters]
    for client in clients:
        assert client.base_url                                              # discover zones up front
    with InflightWatch(at.sim, "Companies") as watch:
        results = run_concurrently(clients, lambda c: len(list(c.query("Companies", Query.all()))))
    assert results == [len(ALL_COMPANIES)] * 6
    assert watch.peak <= 3
    assert record["max"] <= 3
    assert sum(calls(c, "POST", "Companies") for c in clients) == 6         # not one Itgenatr005 retry
    assert sum(c.retries for c in clients) == 0
    assert sum(lim.waits for lim in limiters) >= 1                          # some had to wait for a slot
    assert sim_calls(at)[f"POST {API}/Companies/query"] == 6


def test_without_the_limiter_six_invocations_trip_the_thread_limit(at, make_client):
    """The control for the test above: the simulator does enforce the limit it is checked against."""
    fault(at, SLOW_COMPANIES)
    clients = [make_client(limiter=UnlimitedLimiter()) for _ in range(6)]
    for client in clients:
        assert client.base_url
    with InflightWatch(at.sim, "Companies") as watch:
        run_concurrently(clients, lambda c: len(list(c.query("Companies", Query.all()))))
    assert watch.peak > 3
    assert sum(c.retries for c in clients) >= 1


def test_in_process_limiter_alone_holds_threads_of_one_invocation(at, make_client):
    fault(at, SLOW_COMPANIES)
    shared = LocalLimiter()
    client = make_client(limiter=shared)
    assert client.base_url
    with InflightWatch(at.sim, "Companies") as watch:
        results = run_concurrently([client] * 6, lambda c: len(list(c.query("Companies", Query.all()))))
    assert results == [len(ALL_COMPANIES)] * 6
    assert watch.peak <= 3
    assert client.retries == 0


def test_a_crashed_invocations_slots_free_themselves(state, clock, fake_time):
    limiter = DynamoLimiter(state.table, lease_seconds=60, wait=5, poll=0.5, sleep=fake_time.sleep,
                            monotonic=fake_time.monotonic)
    leases = Leases(state.table)
    for n in range(3):                                   # a Lambda took every slot and died
        assert leases.acquire(slot_lease_name("Invoices", n), "crashed", 60)
    with pytest.raises(AutotaskBusy), limiter.slot("Invoices"):
        pass
    assert sum(fake_time.sleeps) == pytest.approx(5)     # it waited its bounded time, no longer
    clock.advance(61)                                    # their leases lapse
    with limiter.slot("invoices"):                       # any casing: the same endpoint
        holders = {lease_holder(state.table, slot_lease_name("Invoices", n)) for n in range(3)}
        assert len(holders - {None}) == 1
    assert {lease_holder(state.table, slot_lease_name("Invoices", n)) for n in range(3)} == {None}
    with limiter.slot("Contacts"):                       # other endpoints have their own three
        pass
