"""Connecting a customer's Xero organisation: the OAuth2 authorization-code flow, guarded twice.

- `/xero/connect` works only for the holder of a one-time setup token (issued by
  `autoxero connect xero --stack NAME`, valid for an hour), so a stranger who finds the URL cannot link
  their own Xero organisation to this customer's stack;
- the `state` sent to Xero is stored with a TTL and consumed on the callback (one use, ten minutes);
- the callback exchanges the code, reads /connections and keeps one tenant per stack, saying so when the
  person authorised several; the token set is saved under the token lease, like a refresh.
"""

from __future__ import annotations

import hashlib
import secrets as pysecrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from autoxero.observability import logger
from autoxero.secrets import SecretStore
from autoxero.state import State
from autoxero.xero import models
from autoxero.xero.tokens import REFRESH_LEASE

if TYPE_CHECKING:
    from autoxero.runtime import Runtime

SETUP_TOKEN_SECONDS = 3600
STATE_SECONDS = 600


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    reason: str
    location: str | None = None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConnectService:
    def __init__(self, state: State, secrets: SecretStore, secret_id: str, *, login_url: str, token_url: str,
                 identity_url: str, redirect_uri: str, scopes: list[str],
                 http: httpx.Client | None = None, clock: Callable[[], float] = time.time) -> None:
        self._state = state
        self._secrets = secrets
        self._secret_id = secret_id
        self._login_url = login_url
        self._token_url = token_url
        self._identity_url = identity_url.rstrip("/")
        self._redirect_uri = redirect_uri
        self._scopes = scopes
        self._http = http or httpx.Client(timeout=httpx.Timeout(15.0, connect=5.0))
        self._clock = clock

    @classmethod
    def from_runtime(cls, rt: Runtime, redirect_uri: str) -> ConnectService:
        settings, _ = rt.state.settings.load()
        return cls(rt.state, rt.secrets, rt.config.xero_secret_id, login_url=rt.config.xero_login_url,
                   token_url=rt.config.xero_token_url, identity_url=rt.config.xero_identity_url,
                   redirect_uri=redirect_uri, scopes=settings.xero.scope_list)

    # ------------------------------------------------------------------ setup token

    def issue_setup_token(self) -> str:
        token = pysecrets.token_urlsafe(32)
        now = self._clock()
        expires = int(now + SETUP_TOKEN_SECONDS)
        self._state.connect.put_setup_token(_hash(token), expires)
        return token

    def _setup_token_valid(self, token: str | None) -> bool:
        if not token:
            return False
        return self._state.connect.setup_token_valid(_hash(token), self._clock())

    # ------------------------------------------------------------------ the two routes

    def start(self, setup_token: str | None) -> Outcome:
        if not self._setup_token_valid(setup_token):
            return Outcome(403, "This connect link is missing its setup token or has expired. "
                                "Run `autoxero connect xero --stack <name>` for a new one.")
        secret = self._secrets.read(self._secret_id, fresh=True)
        if not secret.get("client_id"):
            return Outcome(409, "The Xero app's client id is not set. Run `autoxero credentials set xero` first.")
        state = pysecrets.token_urlsafe(24)
        now = self._clock()
        self._state.connect.put_oauth_state(state, _hash(setup_token or ""), int(now + STATE_SECONDS))
        query = urlencode({"response_type": "code", "client_id": secret["client_id"],
                           "redirect_uri": self._redirect_uri, "scope": " ".join(self._scopes), "state": state})
        return Outcome(302, "Redirecting to Xero to approve the connection.", f"{self._login_url}?{query}")

    def finish(self, *, code: str | None, state: str | None, error: str | None = None) -> Outcome:
        if error:
            return Outcome(400, f"Xero did not connect: {error}. Nothing was changed.")
        claimed = self._state.connect.claim_oauth_state(state, self._clock()) if state else None
        if claimed is None:
            return Outcome(400, "This approval link has expired or was already used. Start again from "
                                "`autoxero connect xero`. Nothing was changed.")
        if not code:
            return Outcome(400, "Xero sent no authorisation code. Nothing was changed.")
        secret = self._secrets.read(self._secret_id, fresh=True)
        try:
            token = self._exchange(code, secret)
            connections = self._connections(token["access_token"])
        except httpx.HTTPError as err:
            logger.warning("xero connect exchange failed", error=type(err).__name__)
            return Outcome(502, "Xero did not complete the connection; please try again. Nothing was changed.")
        if not connections:
            return Outcome(400, "The approval gave access to no Xero organisation. Nothing was changed.")
        chosen = next((c for c in connections if c.tenantId == secret.get("tenant_id")), connections[0])
        with self._state.leases.held(REFRESH_LEASE, 30, wait=20):
            current = self._secrets.read(self._secret_id, fresh=True)
            now = int(self._clock())
            self._secrets.write(self._secret_id, {**current, "token_set": token, "tenant_id": chosen.tenantId,
                                                  "tenant_name": chosen.tenantName, "connected_at": now,
                                                  "refreshed_at": now})
        self._state.connect.drop_setup_token(claimed)
        message = f"Connected to Xero organisation {chosen.tenantName!r}."
        if len(connections) > 1:
            others = ", ".join(repr(c.tenantName) for c in connections if c is not chosen)
            message += (f" You also authorised {others}; this stack syncs with {chosen.tenantName!r} only. "
                        "Deploy another stack for each other organisation.")
        return Outcome(200, message)

    # ------------------------------------------------------------------ helpers

    def _exchange(self, code: str, secret: dict[str, Any]) -> dict[str, Any]:
        answer = self._http.post(self._token_url, data={"grant_type": "authorization_code", "code": code,
                                                        "redirect_uri": self._redirect_uri},
                                 auth=(str(secret.get("client_id", "")), str(secret.get("client_secret", ""))))
        answer.raise_for_status()
        token = dict(answer.json())
        token["expires_at"] = self._clock() + float(token.get("expires_in") or 1800)
        return token

    def _connections(self, access_token: str) -> list[models.Connection]:
        answer = self._http.get(f"{self._identity_url}/connections",
                                headers={"Authorization": f"Bearer {access_token}"})
        answer.raise_for_status()
        return [models.Connection.model_validate(c) for c in answer.json()]
