"""Xero's identity service as the sandbox needs it: authorise (auto-consent), token (code, refresh with
rotation and a 30-minute grace window, client credentials), revocation, and the connections list.

All lifetimes run on the sandbox clock, so a test can live through 30 minutes by advancing it.

Sources beyond the vendored tests/contract/specs/xero-identity.yaml (connections, `authEventId` "shared across
connections authorised at the same time", the `authEventId` filter):
- access tokens are JWTs whose claims include `authentication_event_id` (the authEventId of the approval that
  issued them), `xero_userid`, `client_id` and `scope` as an array: a decoded Xero access token in
  pink-gorilla/webly `demo-repl/src/info.clj`, and NangoHQ/nango
  `packages/server/lib/hooks/connection/providers/xero/post-connection.ts`, which picks the connection whose
  authEventId equals that claim. Real tokens are RS256-signed with Xero's keys; here HS256 with the client
  secret (nothing in autoxero verifies them: it receives them straight from the token endpoint);
- `GET /connections` lists every organisation the user has ever connected to the app, not only the ones just
  approved (same Nango hook; the approving user's earlier connections keep their own authEventId);
- a refresh may name a scope, which must not exceed the grant: RFC 6749 §6, else `invalid_scope` (§5.2); a
  refresh without scope gets the originally granted scope, and the rotated refresh token keeps the grant.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sandbox.core import SandboxClock

from .wire import XeroError, connection_time, problem

ACCESS_TTL = 30 * 60
REFRESH_GRACE = 30 * 60
REFRESH_UNUSED_TTL = 60 * 24 * 3600
CODE_TTL = 5 * 60
DEFAULT_CLIENT_CREDENTIALS_SCOPE = "accounting.transactions accounting.contacts accounting.settings"
SANDBOX_USER_ID = "0c8f8e0a-6b5d-4c43-9f6e-5b1c7e2d9a10"
SANDBOX_USER_SUB = "5f3b0c1e2d8a4b6c9e7f1a2b3c4d5e6f"

DEFAULT_CREDENTIALS: dict[str, str] = {
    "client_id": "SANDBOXCLIENTID0000000000000000",
    "client_secret": "sandbox-xero-client-secret",
    "webhook_key": "sandbox-xero-webhook-key",
    "tenant_id": "6d8b8a1e-3c2f-4a8e-9f1b-2a7c5d9e0b11",
    "tenant_name": "Harbour IT Ltd",
}


@dataclass
class Connection:
    id: str
    auth_event_id: str
    tenant_id: str
    tenant_name: str
    created: datetime
    updated: datetime
    tenant_type: str = "ORGANISATION"

    def wire(self) -> dict[str, Any]:
        return {"id": self.id, "authEventId": self.auth_event_id, "tenantId": self.tenant_id,
                "tenantType": self.tenant_type, "tenantName": self.tenant_name,
                "createdDateUtc": connection_time(self.created), "updatedDateUtc": connection_time(self.updated)}


@dataclass
class AuthCode:
    redirect_uri: str
    scope: str
    tenant_ids: list[str]
    expires_at: float
    used: bool = False


@dataclass
class AccessToken:
    scope: str
    expires_at: float
    custom_tenant: str | None = None  # client-credentials tokens are bound to one organisation


@dataclass
class RefreshToken:
    scope: str
    issued_at: float
    auth_event_id: str | None = None
    rotated_at: float | None = None
    revoked: bool = False
    family: str = field(default_factory=lambda: str(uuid.uuid4()))


def oauth_error(error: str, status: int = 400) -> XeroError:
    return XeroError(status, {"error": error})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class AuthServer:
    def __init__(self, clock: SandboxClock) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.credentials: dict[str, str] = dict(DEFAULT_CREDENTIALS)
        self.consent_tenants: list[str] | None = None
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.codes: dict[str, AuthCode] = {}
            self.access: dict[str, AccessToken] = {}
            self.refresh: dict[str, RefreshToken] = {}
            self.connections: dict[str, Connection] = {}
            self.token_refreshes = 0
            self.invalid_grants = 0
            self.consent_tenants = None

    # ------------------------------------------------------------------ client authentication

    def _client(self, form: dict[str, str], authorization: str | None) -> None:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization.split(None, 1)[1]).decode()
                client_id, _, secret = decoded.partition(":")
            except (ValueError, UnicodeDecodeError) as exc:
                raise oauth_error("invalid_client") from exc
        expected_id, expected_secret = self.credentials["client_id"], self.credentials["client_secret"]
        if not client_id or not secret or not hmac.compare_digest(client_id, expected_id) \
                or not hmac.compare_digest(secret, expected_secret):
            raise oauth_error("invalid_client")

    # ------------------------------------------------------------------ authorise

    def authorize(self, params: dict[str, str], tenants: dict[str, str]) -> str:
        """Auto-consent as the sandbox user; returns the redirect location."""
        redirect_uri = params.get("redirect_uri")
        if params.get("client_id") != self.credentials["client_id"] or not redirect_uri:
            raise oauth_error("unauthorized_client")
        state = params.get("state")

        def back(**query: str) -> str:
            if state is not None:
                query["state"] = state
            joiner = "&" if "?" in redirect_uri else "?"
            return f"{redirect_uri}{joiner}{urlencode(query)}"

        if params.get("response_type") != "code":
            return back(error="unsupported_response_type")
        scope = " ".join(params.get("scope", "").split())
        if not scope:
            return back(error="invalid_scope")
        chosen = self._consented_tenants(params.get("tenants"), tenants)
        if not chosen:
            return back(error="access_denied")
        code = secrets.token_urlsafe(24)
        now = self.clock.time()
        with self.lock:
            self.codes[code] = AuthCode(redirect_uri, scope, chosen, now + CODE_TTL)
        return back(code=code)

    def _consented_tenants(self, requested: str | None, tenants: dict[str, str]) -> list[str]:
        if requested:
            if requested.strip().lower() == "all":
                return list(tenants)
            return [t.strip().lower() for t in requested.split(",") if t.strip().lower() in tenants]
        if self.consent_tenants:
            return [t for t in self.consent_tenants if t in tenants]
        primary = self.credentials["tenant_id"]
        return [primary] if primary in tenants else list(tenants)[:1]

    def connect(self, tenant_ids: list[str], tenants: dict[str, str]) -> str:
        """Record (or refresh) the sandbox user's connections to these organisations; returns the authEventId."""
        now = self.clock.now()
        event = str(uuid.uuid4())
        with self.lock:
            for tenant_id in tenant_ids:
                existing = self.connections.get(tenant_id)
                if existing:
                    existing.auth_event_id, existing.updated = event, now
                else:
                    self.connections[tenant_id] = Connection(str(uuid.uuid4()), event, tenant_id,
                                                             tenants.get(tenant_id, ""), now, now)
        return event

    # ------------------------------------------------------------------ token

    def token(self, form: dict[str, str], authorization: str | None, tenants: dict[str, str]) -> dict[str, Any]:
        grant = form.get("grant_type")
        if not grant:
            raise oauth_error("invalid_request")
        if grant not in ("authorization_code", "refresh_token", "client_credentials"):
            raise oauth_error("unsupported_grant_type")
        self._client(form, authorization)
        if grant == "authorization_code":
            return self._grant_code(form, tenants)
        if grant == "refresh_token":
            return self._grant_refresh(form)
        scope = " ".join(form.get("scope", "").split()) or DEFAULT_CLIENT_CREDENTIALS_SCOPE
        return self._issue(scope, custom_tenant=self.credentials["tenant_id"], with_refresh=False)

    def _invalid_grant(self) -> XeroError:
        self.invalid_grants += 1
        return oauth_error("invalid_grant")

    def _grant_code(self, form: dict[str, str], tenants: dict[str, str]) -> dict[str, Any]:
        now = self.clock.time()
        with self.lock:
            code = self.codes.get(form.get("code", ""))
            if code is None or code.used or code.expires_at <= now or code.redirect_uri != form.get("redirect_uri"):
                raise self._invalid_grant()
            code.used = True
        event = self.connect(code.tenant_ids, tenants)
        return self._issue(code.scope, with_refresh="offline_access" in code.scope.split(), auth_event_id=event)

    def _grant_refresh(self, form: dict[str, str]) -> dict[str, Any]:
        now = self.clock.time()
        with self.lock:
            record = self.refresh.get(form.get("refresh_token", ""))
            if record is None or record.revoked:
                raise self._invalid_grant()
            if record.rotated_at is None and now - record.issued_at > REFRESH_UNUSED_TTL:
                raise self._invalid_grant()
            if record.rotated_at is not None and now - record.rotated_at > REFRESH_GRACE:
                raise self._invalid_grant()
            asked = form.get("scope", "").split()
            if asked and not set(asked) <= set(record.scope.split()):
                raise oauth_error("invalid_scope")
            if record.rotated_at is None:
                record.rotated_at = now
            self.token_refreshes += 1
            granted, family, event = record.scope, record.family, record.auth_event_id
        return self._issue(" ".join(asked) or granted, with_refresh=True, family=family, auth_event_id=event,
                           refresh_scope=granted)

    def _issue(self, scope: str, *, custom_tenant: str | None = None, with_refresh: bool,
               family: str | None = None, auth_event_id: str | None = None,
               refresh_scope: str | None = None) -> dict[str, Any]:
        now = self.clock.time()
        access = self._access_token(scope, now, auth_event_id, user=custom_tenant is None)
        body: dict[str, Any] = {"access_token": access, "expires_in": ACCESS_TTL, "token_type": "Bearer"}
        with self.lock:
            self.access[access] = AccessToken(scope, now + ACCESS_TTL, custom_tenant)
            if with_refresh:
                refresh = secrets.token_urlsafe(32)
                self.refresh[refresh] = RefreshToken(refresh_scope or scope, now, auth_event_id,
                                                     family=family or str(uuid.uuid4()))
                body["refresh_token"] = refresh
        body["scope"] = scope
        if "openid" in scope.split():
            body["id_token"] = self._id_token(now)
        return body

    def _jwt(self, claims: dict[str, Any]) -> str:
        header = {"alg": "HS256", "typ": "JWT"}
        signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = hmac.new(self.credentials["client_secret"].encode(), signing.encode(), hashlib.sha256).digest()
        return f"{signing}.{_b64(signature)}"

    def _access_token(self, scope: str, now: float, auth_event_id: str | None, *, user: bool) -> str:
        claims: dict[str, Any] = {
            "nbf": int(now), "exp": int(now) + ACCESS_TTL, "iss": "https://identity.xero.com",
            "aud": "https://identity.xero.com/resources", "client_id": self.credentials["client_id"],
            "jti": uuid.uuid4().hex, "scope": scope.split()}
        if user:
            claims |= {"sub": SANDBOX_USER_SUB, "auth_time": int(now), "xero_userid": SANDBOX_USER_ID,
                       "global_session_id": uuid.uuid4().hex, "sid": uuid.uuid4().hex}
        if auth_event_id:
            claims["authentication_event_id"] = auth_event_id
        return self._jwt(claims)

    def _id_token(self, now: float) -> str:
        return self._jwt({"iss": "https://identity.xero.com", "aud": self.credentials["client_id"],
                          "sub": SANDBOX_USER_SUB, "xero_userid": SANDBOX_USER_ID,
                          "email": "sandbox@harbourit.example", "given_name": "Sandbox", "family_name": "User",
                          "iat": int(now), "exp": int(now) + 300})

    def revoke(self, form: dict[str, str], authorization: str | None) -> None:
        self._client(form, authorization)
        with self.lock:
            record = self.refresh.get(form.get("token", ""))
            if record is not None:
                for other in self.refresh.values():
                    if other.family == record.family:
                        other.revoked = True

    # ------------------------------------------------------------------ resource access

    def check_access(self, authorization: str | None) -> AccessToken:
        token = ""
        if authorization and authorization.lower().startswith("bearer "):
            token = authorization.split(None, 1)[1].strip()
        with self.lock:
            record = self.access.get(token)
        if record is None:
            raise XeroError(401, problem(401, "Unauthorized", "AuthenticationUnsuccessful"),
                            {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if record.expires_at <= self.clock.time():
            expired = datetime.fromtimestamp(record.expires_at, UTC).strftime("%m/%d/%Y %H:%M:%S")
            raise XeroError(401, problem(401, "Unauthorized", f"TokenExpired: token expired at {expired}"),
                            {"WWW-Authenticate": f'Bearer error="invalid_token", '
                                                 f'error_description="The token expired at \'{expired}\'"'})
        return record

    def connection_list(self, token: AccessToken, tenants: dict[str, str],
                        auth_event_id: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            if token.custom_tenant is not None:
                tenant = token.custom_tenant
                existing = self.connections.get(tenant)
                conns = [existing] if existing else [Connection(
                    str(uuid.uuid5(uuid.NAMESPACE_URL, f"custom:{tenant}")), str(uuid.uuid4()), tenant,
                    tenants.get(tenant, ""), self.clock.now(), self.clock.now())]
            else:
                conns = list(self.connections.values())
        return [c.wire() for c in conns if auth_event_id is None or c.auth_event_id == auth_event_id]

    def disconnect(self, connection_id: str) -> bool:
        with self.lock:
            for tenant_id, conn in list(self.connections.items()):
                if conn.id == connection_id:
                    del self.connections[tenant_id]
                    return True
        return False

    def tenant_for(self, token: AccessToken, header: str | None) -> str:
        """The organisation a call acts on: the custom connection's, or the connected `xero-tenant-id`."""
        forbidden = XeroError(403, problem(403, "Forbidden", "AuthorizationUnsuccessful"))
        wanted = (header or "").strip().lower()
        if token.custom_tenant is not None:
            if wanted and wanted != token.custom_tenant:
                raise forbidden
            return token.custom_tenant
        with self.lock:
            if not wanted or wanted not in self.connections:
                raise forbidden
        return wanted
