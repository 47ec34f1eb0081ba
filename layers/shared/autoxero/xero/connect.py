"""Connecting a customer's Xero organisation: the OAuth2 authorization-code flow, guarded three times.

- `/xero/connect` works only for the holder of a setup token (issued by `autoxero connect xero --stack NAME`,
  valid for an hour), so a stranger who finds the URL cannot link their own Xero organisation to this
  customer's stack; the token starts one approval only (it is spent at `start`);
- the `state` sent to Xero is stored with a TTL and consumed on the callback (one use, ten minutes), and it
  dies with its setup token (the callback retires the token it came from) and with any later-started
  approval that finished first: an older approval finishing late never re-points the stack;
- the callback binds only the organisation approved now. `GET /connections` lists every organisation the
  approving user ever connected to this app, so the connections are filtered by the approval's own
  `authEventId`, read from the access token's `authentication_event_id` claim (Xero's access tokens are
  JWTs; NangoHQ/nango's Xero post-connection hook picks the tenant the same way). Several organisations in
  one approval are refused: one stack syncs with one organisation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets as pysecrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from autoxero.observability import logger
from autoxero.secrets import SecretStore
from autoxero.secrets.documents import TokenSet, XeroSecret
from autoxero.state import State
from autoxero.state.approvals import OpenApproval
from autoxero.xero import models
from autoxero.xero.tokens import REFRESH_LEASE

if TYPE_CHECKING:
    from autoxero.runtime import Runtime

SETUP_TOKEN_SECONDS = 3600
STATE_SECONDS = 600
# The callback's slow steps, after its one-time state is spent: the code exchange and /connections (each at
# most HTTP_CONNECT_SECONDS + HTTP_READ_SECONDS) and the wait for the token lease. Their sum stays well inside
# the function's Timeout in template.yaml and API Gateway's 29 s, so a slow Xero ends in an answer, never a
# cut-off (tests/template/test_deploy.py checks the budget against the template).
HTTP_CONNECT_SECONDS = 3.0
HTTP_READ_SECONDS = 6.0
LEASE_WAIT_SECONDS = 5.0
CALLBACK_WORST_CASE_SECONDS = 2 * (HTTP_CONNECT_SECONDS + HTTP_READ_SECONDS) + LEASE_WAIT_SECONDS


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    reason: str
    location: str | None = None


SUPERSEDED = Outcome(409, "Xero was connected by a later approval while this one was open, so this one is "
                         "ignored. Nothing was changed.")


def _superseded(secret: XeroSecret, started_ms: int) -> bool:
    """An approval started no later than the one the stack is bound to must not re-point it."""
    return started_ms <= (secret.approval_started_ms or 0)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConnectService:
    def __init__(self, state: State, secrets: SecretStore, secret_id: str, *, login_url: str, token_url: str,
                 identity_url: str, redirect_uri: str, scopes: list[str],
                 http: httpx.Client | None = None, clock: Callable[[], float] = time.time,
                 webhook_secret_id: str | None = None) -> None:
        self._state = state
        self._webhook_secret_id = webhook_secret_id
        self._secrets = secrets
        self._secret_id = secret_id
        self._login_url = login_url
        self._token_url = token_url
        self._identity_url = identity_url.rstrip("/")
        self._redirect_uri = redirect_uri
        self._scopes = scopes
        self._http = http or httpx.Client(timeout=httpx.Timeout(HTTP_READ_SECONDS, connect=HTTP_CONNECT_SECONDS))
        self._clock = clock

    @classmethod
    def from_runtime(cls, rt: Runtime, redirect_uri: str) -> ConnectService:
        settings, _ = rt.state.settings.load()
        return cls(rt.state, rt.secrets, rt.config.xero_secret_id, login_url=rt.config.xero_login_url,
                   token_url=rt.config.xero_token_url, identity_url=rt.config.xero_identity_url,
                   redirect_uri=redirect_uri, scopes=settings.xero.scope_list,
                   webhook_secret_id=rt.config.xero_webhook_secret_id)

    # ------------------------------------------------------------------ setup token

    def issue_setup_token(self) -> str:
        token = pysecrets.token_urlsafe(32)
        now = self._clock()
        self._state.approvals.issue_setup_token(_hash(token), int(now + SETUP_TOKEN_SECONDS))
        return token

    def _spend_setup_token(self, token: str | None, state: str) -> bool:
        """Mark the setup token as used by this one approval; False if it is unknown, expired or used."""
        return bool(token) and self._state.approvals.spend_setup_token(_hash(token or ""), _hash(state),
                                                                       int(self._clock()))

    # ------------------------------------------------------------------ the two routes

    def start(self, setup_token: str | None) -> Outcome:
        secret = self._secrets.xero(self._secret_id, fresh=True)
        if not secret.client_id:
            return Outcome(409, "The Xero app's client id is not set. Run `autoxero credentials set xero` first.")
        state = pysecrets.token_urlsafe(24)
        if not self._spend_setup_token(setup_token, state):
            return Outcome(403, "This connect link is missing its setup token, has expired or was already used. "
                                "Run `autoxero connect xero --stack <name>` for a new one.")
        now = self._clock()
        self._state.approvals.open(state, OpenApproval(_hash(setup_token or ""), int(now * 1000)),
                                   int(now + STATE_SECONDS))
        query = urlencode({"response_type": "code", "client_id": secret.client_id,
                           "redirect_uri": self._redirect_uri, "scope": " ".join(self._scopes), "state": state})
        return Outcome(302, "Redirecting to Xero to approve the connection.", f"{self._login_url}?{query}")

    def finish(self, *, code: str | None, state: str | None, error: str | None = None) -> Outcome:
        if error:
            return Outcome(400, f"Xero did not connect: {error}. Nothing was changed.")
        claimed = self._state.approvals.consume(state, int(self._clock())) if state else None
        if claimed is None:
            return Outcome(400, "This approval link has expired or was already used. Start again from "
                                "`autoxero connect xero`. Nothing was changed.")
        if not code:
            return Outcome(400, "Xero sent no authorisation code. Nothing was changed.")
        if not self._state.approvals.retire_setup_token(claimed.setup_token_hash, _hash(str(state)),
                                                        int(self._clock())):
            return Outcome(400, "The connect link this approval came from has expired or was replaced. Start "
                                "again from `autoxero connect xero`. Nothing was changed.")
        secret = self._secrets.xero(self._secret_id, fresh=True)
        started = claimed.started_ms
        if _superseded(secret, started):
            return SUPERSEDED
        try:
            token = self._exchange(code, secret)
            event = approval_event(str(token.get("access_token") or ""))
            connections = self._connections(token["access_token"], event) if event else []
        except httpx.HTTPError as err:
            logger.warning("xero connect exchange failed", error=type(err).__name__)
            return Outcome(502, "Xero did not complete the connection; please try again. Nothing was changed.")
        if event is None:
            return Outcome(502, "Xero's answer did not say which organisation was approved, so none was "
                                "connected. Please try again. Nothing was changed.")
        if not connections:
            return Outcome(400, "The approval gave access to no Xero organisation. Nothing was changed.")
        if len(connections) > 1:
            names = ", ".join(repr(c.tenantName) for c in connections)
            return Outcome(400, f"You approved {len(connections)} Xero organisations at once ({names}); this "
                                "stack syncs with exactly one. Run `autoxero connect xero` again and tick only "
                                "this customer's organisation. Nothing was changed.")
        chosen = connections[0]
        previous = secret.tenant_name if secret.tenant_id not in (None, chosen.tenantId) else None
        with self._state.leases.held(REFRESH_LEASE, 30, wait=LEASE_WAIT_SECONDS):
            current = self._secrets.xero(self._secret_id, fresh=True)
            if _superseded(current, started):
                return SUPERSEDED
            now = int(self._clock())
            self._secrets.write(self._secret_id, current.model_copy(update={
                "token_set": TokenSet.model_validate(token), "tenant_id": chosen.tenantId,
                "tenant_name": chosen.tenantName, "connected_at": now, "refreshed_at": now,
                "approval_started_ms": started}).document())
        if self._webhook_secret_id:  # the webhook receiver drops events of any other tenant
            self._secrets.update(self._webhook_secret_id, {"tenant_id": chosen.tenantId})
        message = f"Connected to Xero organisation {chosen.tenantName!r}."
        if previous is not None:
            message += f" This stack was connected to {previous!r} before; it now syncs with {chosen.tenantName!r}."
        return Outcome(200, message)

    # ------------------------------------------------------------------ helpers

    def _exchange(self, code: str, secret: XeroSecret) -> dict[str, Any]:
        answer = self._http.post(self._token_url, data={"grant_type": "authorization_code", "code": code,
                                                        "redirect_uri": self._redirect_uri},
                                 auth=(secret.client_id, secret.client_secret))
        answer.raise_for_status()
        token = dict(answer.json())
        token["expires_at"] = self._clock() + float(token.get("expires_in") or 1800)
        return token

    def _connections(self, access_token: str, event: str) -> list[models.Connection]:
        """The organisations this approval connected (the filter is checked here too, should Xero ignore it)."""
        answer = self._http.get(f"{self._identity_url}/connections", params={"authEventId": event},
                                headers={"Authorization": f"Bearer {access_token}"})
        answer.raise_for_status()
        connections = [models.Connection.model_validate(c) for c in answer.json()]
        return [c for c in connections if (c.authEventId or "").lower() == event.lower()]


def approval_event(access_token: str) -> str | None:
    """The `authentication_event_id` claim of a Xero access token (a JWT), or None when it has none. The
    signature is not checked: the token came straight from Xero's token endpoint over TLS."""
    parts = access_token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    event = claims.get("authentication_event_id") if isinstance(claims, dict) else None
    return str(event) if event else None
