"""Identity service: authorise, code exchange, refresh rotation with its 30-minute grace window and scope
check, client credentials, access-token expiry, JWT access tokens, connections."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from sandbox.fixtures.xero_demo import xero_sandbox_credentials
from sandbox.xero.testing import XeroSandbox

CREDS = xero_sandbox_credentials()
STANDARD_KEYS = {"access_token", "refresh_token", "expires_in", "token_type", "scope", "id_token"}
SCOPE = "openid profile email offline_access accounting.transactions accounting.contacts accounting.settings"


def _basic() -> dict[str, str]:
    raw = f"{CREDS['client_id']}:{CREDS['client_secret']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def _authorize(xero: XeroSandbox, **extra: str) -> dict[str, list[str]]:
    params = {"client_id": CREDS["client_id"], "redirect_uri": "http://localhost:8765/callback", "scope": SCOPE,
              "state": "s-123", "response_type": "code", **extra}
    response = httpx.get(f"{xero.url}/identity/connect/authorize", params=params, follow_redirects=False)
    assert response.status_code == 302
    location = urlparse(response.headers["location"])
    assert location.path == "/callback"
    return parse_qs(location.query)


def _code_grant(xero: XeroSandbox, code: str) -> httpx.Response:
    return httpx.post(f"{xero.url}/connect/token", headers=_basic(), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": "http://localhost:8765/callback"})


def _refresh(xero: XeroSandbox, refresh_token: str, *, basic: bool = False) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if basic:
        return httpx.post(f"{xero.url}/connect/token", headers=_basic(), data=form)
    return httpx.post(f"{xero.url}/connect/token", data=form | {"client_id": CREDS["client_id"],
                                                               "client_secret": CREDS["client_secret"]})


def _organisation(xero: XeroSandbox, access_token: str, tenant: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {access_token}"}
    if tenant is not None:
        headers["xero-tenant-id"] = tenant
    return httpx.get(f"{xero.url}/api.xro/2.0/Organisation", headers=headers)


def test_authorization_code_flow_returns_only_standard_keys(xero: XeroSandbox) -> None:
    query = _authorize(xero)
    assert query["state"] == ["s-123"]
    response = _code_grant(xero, query["code"][0])
    assert response.status_code == 200
    token = response.json()
    assert set(token) <= STANDARD_KEYS and {"access_token", "refresh_token", "id_token"} <= set(token)
    assert token["expires_in"] == 1800 and token["token_type"] == "Bearer"
    assert token["scope"].split() == SCOPE.split()
    assert _organisation(xero, token["access_token"], xero.tenant_id).status_code == 200
    # an authorisation code is single use
    again = _code_grant(xero, query["code"][0])
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant"}


def test_no_refresh_token_without_offline_access(xero: XeroSandbox) -> None:
    query = _authorize(xero, scope="openid accounting.transactions")
    assert "refresh_token" not in _code_grant(xero, query["code"][0]).json()


def test_client_authentication_is_checked(xero: XeroSandbox) -> None:
    query = _authorize(xero)
    wrong = httpx.post(f"{xero.url}/connect/token", data={
        "grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": "http://localhost:8765/callback",
        "client_id": CREDS["client_id"], "client_secret": "not-the-secret"})
    assert wrong.status_code == 400 and wrong.json() == {"error": "invalid_client"}
    assert httpx.post(f"{xero.url}/connect/token", data={"grant_type": "password"}).json() == {
        "error": "unsupported_grant_type"}


def test_refresh_rotates_and_the_old_token_has_a_30_minute_grace(xero: XeroSandbox) -> None:
    first = xero.token()
    second = _refresh(xero, first["refresh_token"], basic=True).json()
    assert set(second) <= STANDARD_KEYS
    assert second["refresh_token"] != first["refresh_token"]
    assert xero.sim.token_refreshes == 1

    xero.sim.clock.advance(29 * 60)
    within_grace = _refresh(xero, first["refresh_token"])
    assert within_grace.status_code == 200
    assert xero.sim.token_refreshes == 2

    xero.sim.clock.advance(2 * 60)  # 31 minutes after the first rotation
    after_grace = _refresh(xero, first["refresh_token"])
    assert after_grace.status_code == 400 and after_grace.json() == {"error": "invalid_grant"}
    assert xero.sim.invalid_grants == 1
    assert xero.sim.token_refreshes == 2

    # the newest token is still good
    third = _refresh(xero, second["refresh_token"])
    assert third.status_code == 200
    assert xero.sim.token_refreshes == 3


def test_unknown_and_revoked_refresh_tokens_are_invalid_grant(xero: XeroSandbox) -> None:
    assert _refresh(xero, "nope").json() == {"error": "invalid_grant"}
    token = xero.token()
    revoked = httpx.post(f"{xero.url}/connect/revocation", headers=_basic(), data={"token": token["refresh_token"]})
    assert revoked.status_code == 200
    assert _refresh(xero, token["refresh_token"]).json() == {"error": "invalid_grant"}
    assert xero.sim.invalid_grants == 2


def test_access_token_expires_after_30_minutes_of_sandbox_time(xero: XeroSandbox) -> None:
    token = xero.token()
    xero.sim.clock.advance(29 * 60)
    assert _organisation(xero, token["access_token"], xero.tenant_id).status_code == 200
    xero.sim.clock.advance(61)
    response = _organisation(xero, token["access_token"], xero.tenant_id)
    assert response.status_code == 401
    assert "invalid_token" in response.headers["www-authenticate"]
    body = response.json()
    assert body["Type"] is None and body["Title"] == "Unauthorized" and body["Status"] == 401
    assert body["Detail"].startswith("TokenExpired: token expired at ")
    # a refreshed token works again
    fresh = _refresh(xero, token["refresh_token"]).json()
    assert _organisation(xero, fresh["access_token"], xero.tenant_id).status_code == 200


def test_unknown_token_and_tenant_problems(xero: XeroSandbox) -> None:
    assert _organisation(xero, "garbage", xero.tenant_id).status_code == 401
    token = xero.token()
    missing = _organisation(xero, token["access_token"])
    assert missing.status_code == 403 and missing.json()["Title"] == "Forbidden"
    other = _organisation(xero, token["access_token"], "00000000-0000-0000-0000-000000000001")
    assert other.status_code == 403


def test_client_credentials_custom_connection_needs_no_tenant_header(xero: XeroSandbox) -> None:
    response = httpx.post(f"{xero.url}/connect/token", headers=_basic(),
                          data={"grant_type": "client_credentials"})
    token = response.json()
    assert response.status_code == 200
    assert "refresh_token" not in token and set(token) <= STANDARD_KEYS
    assert _organisation(xero, token["access_token"]).status_code == 200
    assert _organisation(xero, token["access_token"], xero.tenant_id).status_code == 200
    assert _organisation(xero, token["access_token"], "00000000-0000-0000-0000-000000000001").status_code == 403


@pytest.mark.parametrize("path", ["/connections", "/Connections"])
def test_connections_list(xero: XeroSandbox, path: str) -> None:
    token = xero.token()
    response = httpx.get(f"{xero.url}{path}", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert response.status_code == 200
    [connection] = response.json()
    assert set(connection) == {"id", "authEventId", "tenantId", "tenantType", "tenantName", "createdDateUtc",
                               "updatedDateUtc"}
    assert connection["tenantId"] == xero.tenant_id and connection["tenantName"] == "Harbour IT Ltd"
    assert connection["tenantType"] == "ORGANISATION"
    unauthorised = httpx.get(f"{xero.url}{path}")
    assert unauthorised.status_code == 401


def test_tenants_parameter_authorises_several_organisations(xero: XeroSandbox) -> None:
    other = "0f0e0d0c-0b0a-4909-8807-060504030201"
    xero.sim.add_tenant(other, "Harbour IT Australia Pty Ltd")
    try:
        query = _authorize(xero, tenants=f"{xero.tenant_id},{other}")
        token = _code_grant(xero, query["code"][0]).json()
        listed = httpx.get(f"{xero.url}/connections",
                           headers={"Authorization": f"Bearer {token['access_token']}"}).json()
        assert {c["tenantId"] for c in listed} == {xero.tenant_id, other}
        assert len({c["authEventId"] for c in listed}) == 1
        assert _organisation(xero, token["access_token"], other).json()["Organisations"][0]["Name"] == \
            "Harbour IT Australia Pty Ltd"
        # disconnecting an organisation removes access to it
        connection = next(c for c in listed if c["tenantId"] == other)
        deleted = httpx.delete(f"{xero.url}/connections/{connection['id']}",
                               headers={"Authorization": f"Bearer {token['access_token']}"})
        assert deleted.status_code == 204
        assert _organisation(xero, token["access_token"], other).status_code == 403
        assert _organisation(xero, token["access_token"], xero.tenant_id).status_code == 200
    finally:
        xero.sim.remove_tenant(other)


def test_authorize_refuses_unknown_clients_and_bad_response_types(xero: XeroSandbox) -> None:
    unknown = httpx.get(f"{xero.url}/identity/connect/authorize", params={
        "client_id": "someone-else", "redirect_uri": "http://localhost/cb", "scope": SCOPE, "response_type": "code"})
    assert unknown.status_code == 400
    query = _authorize(xero, response_type="token")
    assert query["error"] == ["unsupported_response_type"]


def test_token_endpoints_are_not_rate_limited(xero: XeroSandbox) -> None:
    xero.sim.set_limits(minute=1)
    token = xero.token()
    for _ in range(3):
        token = _refresh(xero, token["refresh_token"]).json()
        assert "access_token" in token
    assert xero.sim.token_refreshes == 3


def _claims(access_token: str) -> dict[str, Any]:
    payload = access_token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_access_tokens_are_jwts_naming_the_approval_and_earlier_connections_stay_listed(xero: XeroSandbox) -> None:
    other = "0f0e0d0c-0b0a-4909-8807-060504030201"
    xero.sim.add_tenant(other, "Another Customer Ltd")
    try:
        earlier = _code_grant(xero, _authorize(xero, tenants=other)["code"][0]).json()
        now = _code_grant(xero, _authorize(xero)["code"][0]).json()
        claims = _claims(now["access_token"])
        assert claims["iss"] == "https://identity.xero.com" and claims["client_id"] == CREDS["client_id"]
        assert claims["scope"] == SCOPE.split() and claims["xero_userid"]
        headers = {"Authorization": f"Bearer {now['access_token']}"}
        listed = httpx.get(f"{xero.url}/connections", headers=headers).json()
        assert {c["tenantId"] for c in listed} == {xero.tenant_id, other}  # the user's earlier approval too
        events = {c["tenantId"]: c["authEventId"] for c in listed}
        assert claims["authentication_event_id"] == events[xero.tenant_id] != events[other]
        assert _claims(earlier["access_token"])["authentication_event_id"] == events[other]
        mine = httpx.get(f"{xero.url}/connections", headers=headers,
                         params={"authEventId": claims["authentication_event_id"]}).json()
        assert [c["tenantId"] for c in mine] == [xero.tenant_id]
        # a refreshed access token still names the approval it descends from
        refreshed = _refresh(xero, now["refresh_token"]).json()
        assert _claims(refreshed["access_token"])["authentication_event_id"] == events[xero.tenant_id]
    finally:
        xero.sim.remove_tenant(other)


def test_refresh_scope_may_narrow_but_never_widen_the_grant(xero: XeroSandbox) -> None:
    token = _code_grant(xero, _authorize(xero)["code"][0]).json()
    form = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    wider = httpx.post(f"{xero.url}/connect/token", headers=_basic(),
                       data=form | {"scope": SCOPE + " payroll.employees"})
    assert (wider.status_code, wider.json()) == (400, {"error": "invalid_scope"})
    spelled = httpx.post(f"{xero.url}/connect/token", headers=_basic(), data=form | {"scope": " ".join(SCOPE)})
    assert (spelled.status_code, spelled.json()) == (400, {"error": "invalid_scope"})
    assert xero.sim.token_refreshes == 0  # a refused refresh rotates nothing
    narrower = httpx.post(f"{xero.url}/connect/token", headers=_basic(),
                          data=form | {"scope": "offline_access accounting.contacts"})
    assert narrower.status_code == 200 and narrower.json()["scope"] == "offline_access accounting.contacts"
    # the new refresh token keeps the original grant (RFC 6749 §6): a refresh without scope gets all of it back
    again = _refresh(xero, narrower.json()["refresh_token"]).json()
    assert again["scope"] == SCOPE
