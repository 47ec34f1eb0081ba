"""Limits (docs/autotask.md §8): 3 threads per (integration code, endpoint), 10,000 requests per rolling hour."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import pytest

from sandbox.autotask.testing import RunningAutotask, running_autotask, small_tenant
from sandbox.core import SandboxClock

QUERY = {"filter": [{"op": "gte", "field": "id", "value": 0}]}
SLOW_COMPANIES = {"kind": "latency", "latency": 1.0, "probability": 1.0, "times": 3,
                  "path": "/atservicesrest/v1.0/Companies/query"}


@pytest.fixture(scope="module")
def at():
    with running_autotask(small_tenant(), clock=SandboxClock()) as running:
        running.sim.load_credentials({"username": "other@harbourit.example", "secret": "s2",
                                      "integration_code": "OTHER-INTEGRATION"})
        yield running


@pytest.fixture(autouse=True)
def _clean(at: RunningAutotask):
    at.sim.faults.clear()
    at.sim.set_limits(thread_limit=3, hourly_limit=10_000, reset_counts=True)
    yield
    at.sim.faults.clear()


def wait_until(condition: Callable[[], bool], deadline: float = 10.0) -> None:
    """Wait for a state of the simulator (not for time): fails only if it never comes."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition never became true")
        time.sleep(0.005)


def slow_requests(at: RunningAutotask, n: int, results: list[httpx.Response]) -> list[threading.Thread]:
    def one() -> None:
        with at.client() as c:
            results.append(c.post("/Companies/query", json=QUERY))

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    return threads


def test_fourth_concurrent_request_on_an_endpoint_gets_itgenatr005(at: RunningAutotask):
    at.sim.faults.configure([SLOW_COMPANIES])
    results: list[httpx.Response] = []
    threads = slow_requests(at, 3, results)
    wait_until(lambda: at.sim.inflight("AUTOXERO-SANDBOX", "Companies") == 3)
    with at.client() as c:
        fourth = c.post("/companies/query", json=QUERY)            # any casing: same endpoint
        other_endpoint = c.post("/Contacts/query", json=QUERY)
    with at.client(UserName="other@harbourit.example", Secret="s2", ApiIntegrationCode="OTHER-INTEGRATION") as c:
        other_integration = c.post("/Companies/query", json=QUERY)
    for t in threads:
        t.join()
    assert fourth.status_code == 429
    text = " ".join(fourth.json()["errors"])
    assert "Itgenatr005" in text
    assert "thread threshold" in text.lower()
    assert other_endpoint.status_code == 200
    assert other_integration.status_code == 200
    assert [r.status_code for r in results] == [200, 200, 200]
    # slots are released once the slow requests finish
    with at.client() as c:
        assert c.post("/Companies/query", json=QUERY).status_code == 200


def test_many_parallel_requests_some_are_rejected(at: RunningAutotask):
    """Plain concurrency, no orchestration: 6 slow requests released together; not all can be served."""
    at.sim.faults.configure([{**SLOW_COMPANIES, "latency": 0.5, "times": None}])
    barrier = threading.Barrier(6)
    results: list[httpx.Response] = []

    def one() -> None:
        with at.client() as c:
            barrier.wait()
            results.append(c.post("/Companies/query", json=QUERY))

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results)
    assert 200 in codes
    assert 429 in codes
    assert all("Itgenatr005" in r.text for r in results if r.status_code == 429)


def test_thread_limit_is_configurable(at: RunningAutotask):
    at.sim.set_limits(thread_limit=1)
    at.sim.faults.configure([{**SLOW_COMPANIES, "times": 1}])
    results: list[httpx.Response] = []
    threads = slow_requests(at, 1, results)
    wait_until(lambda: at.sim.inflight("AUTOXERO-SANDBOX", "Companies") == 1)
    with at.client() as c:
        second = c.post("/Companies/query", json=QUERY)
    for t in threads:
        t.join()
    assert second.status_code == 429
    assert "threshold of 1 threads" in second.text


def test_zone_information_is_not_thread_limited(at: RunningAutotask):
    at.sim.set_limits(thread_limit=0)
    assert httpx.get(f"{at.api}/zoneInformation", params={"user": "api@harbourit.example"}).status_code == 200
    with at.client() as c:
        assert c.post("/Companies/query", json=QUERY).status_code == 429


def test_hourly_threshold_on_the_sandbox_clock(at: RunningAutotask):
    at.sim.clock.freeze()
    try:
        at.sim.set_limits(hourly_limit=5, reset_counts=True)
        with at.client() as c:
            codes = [c.post("/Companies/query", json=QUERY).status_code for _ in range(5)]
            assert codes == [200] * 5
            blocked = c.post("/Companies/query", json=QUERY)
            assert blocked.status_code == 429
            assert "Request Threshold Exceeded" in blocked.json()["errors"][0]
            assert 0 < int(blocked.headers["Retry-After"]) <= 3600
            # blocked for every endpoint of the database, not just one
            assert c.get("/Invoices/3001").status_code == 429
            at.sim.clock.advance(3599)
            assert c.get("/Invoices/3001").status_code == 429
            at.sim.clock.advance(2)
            assert c.post("/Companies/query", json=QUERY).status_code == 200
    finally:
        at.sim.clock.unfreeze()


def test_hourly_window_is_rolling(at: RunningAutotask):
    at.sim.clock.freeze()
    try:
        at.sim.set_limits(hourly_limit=4, reset_counts=True)
        with at.client() as c:
            c.get("/Companies/1001")
            c.get("/Companies/1001")
            at.sim.clock.advance(1800)
            c.get("/Companies/1001")
            c.get("/Companies/1001")
            assert c.get("/Companies/1001").status_code == 429
            at.sim.clock.advance(1801)              # the first two fall out of the window
            assert c.get("/Companies/1001").status_code == 200
            assert c.get("/Companies/1001").status_code == 200
            assert c.get("/Companies/1001").status_code == 429
    finally:
        at.sim.clock.unfreeze()


def test_threshold_information_reports_the_count(at: RunningAutotask):
    at.sim.set_limits(hourly_limit=10_000, reset_counts=True)
    with at.client() as c:
        for _ in range(7):
            c.get("/Companies/1001")
        info = c.get("/ThresholdInformation").json()
    assert info == {"externalRequestThreshold": 10_000, "requestThresholdTimeframe": 60,
                    "currentTimeframeRequestCount": 8}      # it counts itself


def test_control_api_is_not_counted_and_sets_limits(at: RunningAutotask):
    with at.control() as control:
        body = control.post("/limits", json={"thread_limit": 2, "hourly_limit": 3, "reset_counts": True}).json()
        assert body["thread_limit"] == 2
        assert body["hourly_limit"] == 3
        for _ in range(10):
            control.get("/calls")
            control.get("/limits")
        assert control.get("/limits").json()["currentTimeframeRequestCount"] == 0
    with at.client() as c:
        assert [c.get("/Companies/1001").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_limits_are_set_at_construction():
    with running_autotask(small_tenant(), thread_limit=5, hourly_limit=2) as running, running.client() as c:
        info = c.get("/ThresholdInformation").json()
        assert info["externalRequestThreshold"] == 2
        assert running.sim.thread_limit == 5
        c.get("/Companies/1001")
        assert c.get("/Companies/1001").status_code == 429


def test_other_integrations_share_the_database_threshold(at: RunningAutotask):
    at.sim.clock.freeze()
    try:
        at.sim.set_limits(hourly_limit=100, reset_counts=True)
        with at.control() as control:
            body = control.post("/limits", json={"other_integrations_per_hour": 30}).json()
        assert body["other_integrations"]["requests_per_hour"] == 30
        with at.client() as c:
            info = c.get("/ThresholdInformation").json()
            assert info["currentTimeframeRequestCount"] == 31  # the others' hour, and this request
            codes = [c.get("/Companies/1001").status_code for _ in range(70)]
            assert codes == [200] * 69 + [429]  # 30 others + 70 of ours reach the database's 100
        state = at.sim.other_integrations()
        assert state["refused_hourly"] == 1 and state["peak_count"] == 100
        at.sim.other_integrations(0)
        assert at.sim.threshold_information()["currentTimeframeRequestCount"] == 70
    finally:
        at.sim.other_integrations(0)
        at.sim.clock.unfreeze()
