"""Per-organisation limits on the sandbox clock: 60 a minute, 5,000 a day, 5 in flight; the headers on
every response and the 429s with Retry-After and X-Rate-Limit-Problem."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from sandbox.xero.testing import XeroSandbox

ORG = "/api.xro/2.0/Organisation"


@pytest.fixture(scope="module")
def server() -> Iterator[XeroSandbox]:
    with XeroSandbox.start() as sandbox:
        yield sandbox


@pytest.fixture
def xero(server: XeroSandbox) -> Iterator[XeroSandbox]:
    server.reset()
    yield server
    server.sim.release()


def test_every_response_carries_the_limit_headers(xero: XeroSandbox) -> None:
    api = xero.client()
    first, second = api.get(ORG), api.get("/api.xro/2.0/Nothing/here")
    assert (first.headers["X-MinLimit-Remaining"], first.headers["X-DayLimit-Remaining"]) == ("59", "4999")
    assert int(first.headers["X-AppMinLimit-Remaining"]) > 0
    refused = api.put("/api.xro/2.0/Contacts", json={"Contacts": [{"Name": "Kauri Accounting Ltd"}]})
    assert refused.status_code == 400 and refused.headers["X-MinLimit-Remaining"] == "58"
    assert second.status_code == 404


def test_minute_limit_with_retry_after(xero: XeroSandbox) -> None:
    api = xero.client()
    limits = xero.control().post("/_sandbox/limits", json={"minute": 3})
    assert limits.json()["limits"]["minute"] == 3
    for remaining in ("2", "1", "0"):
        assert api.get(ORG).headers["X-MinLimit-Remaining"] == remaining
        xero.sim.clock.advance(5)
    refused = api.get(ORG)
    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Problem"] == "minute"
    assert refused.headers["Retry-After"] == "45"  # the window opened 15 s ago
    assert refused.headers["X-MinLimit-Remaining"] == "0"
    xero.sim.clock.advance(44)
    assert api.get(ORG).status_code == 429  # still inside the window; refusals do not count
    xero.sim.clock.advance(1)
    reopened = api.get(ORG)
    assert reopened.status_code == 200 and reopened.headers["X-MinLimit-Remaining"] == "2"


def test_day_limit_with_retry_after(xero: XeroSandbox) -> None:
    api = xero.client()
    xero.sim.set_limits(day=2)
    assert [api.get(ORG).status_code for _ in range(2)] == [200, 200]
    xero.sim.clock.advance(600)
    refused = api.get(ORG)
    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Problem"] == "day"
    assert refused.headers["Retry-After"] == str(86400 - 600)
    assert refused.headers["X-DayLimit-Remaining"] == "0"


def test_concurrent_limit(xero: XeroSandbox) -> None:
    api = xero.client()
    xero.sim.hold()
    results: list[int] = []
    lock = threading.Lock()

    def call() -> None:
        with httpx.Client(base_url=xero.url, headers=api.headers, timeout=30) as own:
            status = own.get(ORG).status_code
        with lock:
            results.append(status)

    threads = [threading.Thread(target=call) for _ in range(5)]
    for thread in threads:
        thread.start()
    for _ in range(2000):  # wait (bounded) until all five are held inside the simulator
        if xero.sim.limiter.in_flight(xero.tenant_id) == 5:
            break
        threading.Event().wait(0.005)
    assert xero.sim.limiter.in_flight(xero.tenant_id) == 5
    sixth = api.get(ORG)
    assert sixth.status_code == 429
    assert sixth.headers["X-Rate-Limit-Problem"] == "concurrent"
    assert "Retry-After" not in sixth.headers
    xero.sim.release()
    for thread in threads:
        thread.join(timeout=30)
    assert results == [200] * 5
    assert api.get(ORG).status_code == 200


def test_limits_are_per_organisation(xero: XeroSandbox) -> None:
    other = "0f0e0d0c-0b0a-4909-8807-060504030201"
    xero.sim.add_tenant(other, "Harbour IT Australia Pty Ltd")
    try:
        token = xero.token(tenants=[xero.tenant_id, other])
        xero.sim.set_limits(minute=1)
        home, away = xero.client(token), xero.client(token, tenant=other)
        assert home.get(ORG).status_code == 200
        assert home.get(ORG).status_code == 429
        assert away.get(ORG).status_code == 200
    finally:
        xero.sim.remove_tenant(other)


def test_control_api_and_identity_are_not_limited(xero: XeroSandbox) -> None:
    api = xero.client(tenant=None)
    xero.sim.set_limits(minute=1)
    for _ in range(3):
        assert api.get("/connections").status_code == 200
        assert xero.control().get("/_sandbox/calls").status_code == 200
    assert "X-MinLimit-Remaining" not in api.get("/connections").headers
