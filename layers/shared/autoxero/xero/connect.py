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
from botocore.exceptions import ClientError

from autoxero.observability import logger
from autoxero.secrets import SecretStore
from autoxero.state import State
from autoxero.state.table import oauth_state_key, setup_token_key
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
        expires = int(now + SETUP_TOKEN_SECONDS)
        self._state.table.table.put_item(Item={**setup_token_key(_hash(token)), "expires_at": expires, "ttl": expires})
        return token

    def _setup_token_valid(self, token: str | None) -> bool:
        if not token:
            return False
        item = self._state.table.get(setup_token_key(_hash(token)))
        return item is not None and int(item["expires_at"]) > self._clock()

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
        self._state.table.table.put_item(Item={**oauth_state_key(state), "expires_at": int(now + STATE_SECONDS),
                                               "setup_token_hash": _hash(setup_token or ""),
                                               "ttl": int(now + STATE_SECONDS)})
        query = urlencode({"response_type": "code", "client_id": secret["client_id"],
                           "redirect_uri": self._redirect_uri, "scope": " ".join(self._scopes), "state": state})
        return Outcome(302, "Redirecting to Xero to approve the connection.", f"{self._login_url}?{query}")

    def finish(self, *, code: str | None, state: str | None, error: str | None = None) -> Outcome:
        if error:
            return Outcome(400, f"Xero did not connect: {error}. Nothing was changed.")
        claimed = self._consume_state(state)
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
        with self._state.leases.held(REFRESH_LEASE, 30, wait=LEASE_WAIT_SECONDS):
            current = self._secrets.read(self._secret_id, fresh=True)
            now = int(self._clock())
            self._secrets.write(self._secret_id, {**current, "token_set": token, "tenant_id": chosen.tenantId,
                                                  "tenant_name": chosen.tenantName, "connected_at": now,
                                                  "refreshed_at": now})
        if self._webhook_secret_id:  # the webhook receiver drops events of any other tenant
            self._secrets.update(self._webhook_secret_id, {"tenant_id": chosen.tenantId})
        self._state.table.table.delete_item(Key=setup_token_key(str(claimed["setup_token_hash"])))
        message = f"Connected to Xero organisation {chosen.tenantName!r}."
        if len(connections) > 1:
            others = ", ".join(repr(c.tenantName) for c in connections if c is not chosen)
            message += (f" You also authorised {others}; this stack syncs with {chosen.tenantName!r} only. "
                        "Deploy another stack for each other organisation.")
        return Outcome(200, message)

    # ------------------------------------------------------------------ helpers

    def _consume_state(self, state: str | None) -> dict[str, Any] | None:
        if not state:
            return None
        try:
            answer = self._state.table.table.delete_item(
                Key=oauth_state_key(state), ConditionExpression="attribute_exists(pk) AND expires_at > :now",
                ExpressionAttributeValues={":now": int(self._clock())}, ReturnValues="ALL_OLD")
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return dict(answer.get("Attributes") or {}) or None

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
