"""The Xero token set: read from Secrets Manager, refreshed only under a lease, saved before it is used.

Refresh tokens rotate on every use. Two invocations refreshing at once would each save a different token,
and the loser's copy stops working 30 minutes later (`invalid_grant`, customer locked out). So:
- an invocation whose access token is about to expire re-reads the secret (another one may have refreshed);
- only the holder of the `xero-token-refresh` lease refreshes, and writes the new set to Secrets Manager
  before anyone uses it; the others wait and re-read instead of refreshing;
- custom connections (client_credentials) have no refresh token and fetch a new access token instead.

The refresh is a plain form POST rather than the SDK's TokenApi, which has no timeout and always sends a
`scope` (" ".join of what it is given: a stored scope string went out one letter at a time). No scope is
sent: RFC 6749 §6 gives a refresh without one the scope originally granted. The call's timeouts add up to
less than the refresh lease, so the lease never lapses while its holder still waits for Xero. The token
endpoint's errors (RFC 6749 §5.2: invalid_grant, invalid_scope, invalid_client, …) need a person and are
never retried; only a 5xx, a timeout or a dropped connection is.

A refresh that dies between Xero's answer and the secret write (the Lambda stopped, or PutSecretValue failed)
loses the new refresh token; Xero then accepts the old one for 30 minutes only
(https://developer.xero.com/documentation/guides/oauth2/token-types/#refresh-token). So a marker is written
before the token endpoint is called and cleared once the new set is stored; the token watch (a schedule every
10 minutes, whatever SyncRateMinutes is) finds a marker whose refresh is no longer running and refreshes at
once with the stored token, well inside the grace.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

import httpx

from autoxero.hints import CONNECT, RECONNECT
from autoxero.observability import logger
from autoxero.secrets import SecretStore
from autoxero.secrets.documents import TokenSet, XeroSecret
from autoxero.state import Cache, CacheEntry, Leases
from autoxero.state.leases import LeaseBusy
from autoxero.xero.errors import XeroError, XeroNotConnected, XeroReconnectRequired

REFRESH_LEASE = "xero-token-refresh"
REFRESH_MARKER = "xero-token-refresh-in-flight"
STORE_ATTEMPTS = 4  # PutSecretValue tries before the marker is left for the token watch
# The SDK refreshes by itself 60 s before expiry; refreshing 5 minutes ahead keeps it from ever trying.
REFRESH_MARGIN_SECONDS = 300
SDK_TOKEN_KEYS = ("access_token", "refresh_token", "expires_in", "expires_at", "token_type", "scope", "id_token")

ConnectionKind = Literal["oauth", "custom_connection"]


def sdk_token(token_set: dict[str, Any]) -> dict[str, Any]:
    """Only the keys the SDK's update_token() accepts: any other key would raise TypeError (SDK defect)."""
    token = {k: token_set.get(k) for k in SDK_TOKEN_KEYS}
    if isinstance(token["scope"], str):
        token["scope"] = token["scope"].split()
    token["token_type"] = token["token_type"] or "Bearer"
    return token


class TokenManager:
    def __init__(self, secrets: SecretStore, secret_id: str, leases: Leases, *, token_url: str,
                 cache: Cache | None = None,
                 kind: ConnectionKind = "oauth", clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, lease_seconds: float = 30,
                 wait_seconds: float = 25, http: httpx.Client | None = None) -> None:
        self._secrets = secrets
        self._secret_id = secret_id
        self._leases = leases
        self._cache = cache
        self._token_url = token_url
        self._kind = kind
        self._clock = clock
        self._sleep = sleep
        self._lease_seconds = lease_seconds
        self._wait_seconds = wait_seconds
        self._rejected: str | None = None  # an access token Xero refused although it looked valid
        self._http = http or httpx.Client(timeout=refresh_timeout(lease_seconds))
        self.refreshes = 0

    # ------------------------------------------------------------------ reading

    def _read(self, fresh: bool) -> XeroSecret:
        return self._secrets.xero(self._secret_id, fresh=fresh)

    def rejected(self, access_token: str) -> None:
        """Xero answered 401 to this token: treat it as expired, whatever its expiry time says."""
        self._rejected = access_token or None

    def _valid(self, token_set: TokenSet | None) -> bool:
        if token_set is None or not token_set.access_token:
            return False
        if self._rejected and token_set.access_token == self._rejected:
            return False
        return token_set.expires_at > self._clock() + REFRESH_MARGIN_SECONDS

    def token_set(self) -> dict[str, Any]:
        """A token set whose access token is valid for at least the margin; refreshes if it must."""
        for fresh in (False, True):
            secret = self._read(fresh=fresh)
            if secret.token_set is not None and self._valid(secret.token_set):
                return _plain(secret.token_set)
        return self._refresh_under_lease()

    def tenant_id(self) -> str | None:
        return self._read(fresh=False).tenant_id or None

    # ------------------------------------------------------------------ refreshing

    def recover(self) -> bool:
        """The token watch: redo a refresh that started and never stored its answer (its invocation died, or
        the secret could not be written) while Xero still accepts the old refresh token. True if it did."""
        marker = self._cache.get(REFRESH_MARKER) if self._cache is not None else None
        if marker is None or float(marker.document) + self._lease_seconds > self._clock():
            return False  # nothing interrupted, or the refresh may still be running
        logger.warning("xero token refresh was interrupted; refreshing again within Xero's grace period")
        self._refresh_under_lease(interrupted=True)
        return True

    def _refresh_under_lease(self, *, interrupted: bool = False) -> dict[str, Any]:
        deadline = time.monotonic() + self._wait_seconds
        while True:
            holder = self._leases.new_holder()
            if self._leases.acquire(REFRESH_LEASE, holder, self._lease_seconds):
                try:
                    secret = self._read(fresh=True)
                    if secret.token_set is not None and self._valid(secret.token_set) and not (
                            interrupted and self._cache is not None and self._cache.get(REFRESH_MARKER)):
                        return _plain(secret.token_set)  # another invocation refreshed while we waited
                    return self._rotate(secret)
                finally:
                    self._leases.release(REFRESH_LEASE, holder)
            # Someone else is refreshing: wait for their token rather than rotating it again.
            secret = self._read(fresh=True)
            if secret.token_set is not None and self._valid(secret.token_set):
                return _plain(secret.token_set)
            if time.monotonic() >= deadline:
                raise LeaseBusy("timed out waiting for another invocation to refresh the Xero token")
            self._sleep(0.2)

    def _rotate(self, secret: XeroSecret) -> dict[str, Any]:
        """Xero rotates the refresh token on this call: mark it in flight first, store the answer before anyone
        uses it (retrying the store), and only then clear the mark."""
        marked = self._cache is not None and self._kind == "oauth"
        if marked and self._cache is not None:
            self._cache.put(REFRESH_MARKER, CacheEntry(str(self._clock()), self._clock() + 86_400))
        new = self._fetch(secret)
        for attempt in range(STORE_ATTEMPTS):
            try:
                stored = secret.model_copy(update={"token_set": TokenSet.model_validate(new),
                                                   "refreshed_at": int(self._clock())})
                self._secrets.write(self._secret_id, stored.document())
                break
            except Exception:
                if attempt == STORE_ATTEMPTS - 1:
                    raise  # the marker stays: the token watch refreshes again within the grace
                logger.warning("storing the refreshed Xero token failed; retrying", attempt=attempt + 1)
                self._sleep(0.5 * 2 ** attempt)
        if marked and self._cache is not None:
            self._cache.drop(REFRESH_MARKER)
        self.refreshes += 1
        logger.info("xero token refreshed", expires_at=new.get("expires_at"))
        return new

    def _fetch(self, secret: XeroSecret) -> dict[str, Any]:
        client_id, client_secret = secret.client_id, secret.client_secret
        if not client_id or not client_secret:
            raise XeroNotConnected("the Xero app's client id and secret are not set: run "
                                   "`autoxero credentials set xero`")
        if self._kind == "custom_connection":
            form = {"grant_type": "client_credentials"}
        else:
            refresh_token = secret.token_set.refresh_token if secret.token_set is not None else ""
            if not refresh_token:
                raise XeroNotConnected(f"Xero is not connected yet: {CONNECT}")
            form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        try:
            answer = self._http.post(self._token_url, data=form, auth=(client_id, client_secret),
                                     headers={"Accept": "application/json"})
        except httpx.HTTPError as err:
            raise XeroError(f"the Xero token endpoint did not answer ({type(err).__name__}); "
                            "the refresh will be retried") from None
        if answer.status_code >= 500 or answer.status_code == 429:
            raise XeroError(f"the Xero token endpoint failed (HTTP {answer.status_code}); the refresh will be "
                            "retried")
        if answer.status_code != 200:
            raise _refused(answer)
        token = dict(answer.json())
        token["expires_at"] = self._clock() + float(token.get("expires_in") or 1800)
        if self._kind == "oauth" and not token.get("refresh_token"):
            raise XeroError("the Xero token endpoint returned no refresh token")
        return token

    # ------------------------------------------------------------------ SDK wiring

    def sdk_token(self) -> dict[str, Any]:
        return sdk_token(self.token_set())


def _plain(token_set: TokenSet) -> dict[str, Any]:
    """The token set as the SDK and the client take it (every key Xero sent)."""
    return token_set.model_dump(mode="json")


def refresh_timeout(lease_seconds: float) -> httpx.Timeout:
    """Connect, write, pool and read waits that add up to under the lease (5/6 of it)."""
    return httpx.Timeout(lease_seconds / 6, read=lease_seconds / 3)


def _refused(answer: httpx.Response) -> XeroError:
    """The token endpoint's own refusal (RFC 6749 §5.2), in words a person can act on; never retried."""
    try:
        error = str(answer.json().get("error") or "")
    except ValueError:
        error = ""
    if error in ("invalid_client", "unauthorized_client"):
        return XeroNotConnected("Xero does not accept this app's client id and secret (or the app may no longer "
                                "use this grant): check them with `autoxero credentials set xero`")
    if error == "invalid_grant":
        return XeroReconnectRequired(
            "Xero no longer accepts this connection's refresh token (it expired after 60 days unused, was "
            f"revoked, or was rotated elsewhere). {RECONNECT}.")
    if error == "invalid_scope":
        return XeroReconnectRequired("Xero refused the permissions this connection asked for (invalid_scope). "
                                     f"{RECONNECT}.")
    return XeroReconnectRequired(f"Xero's token endpoint refused the refresh (HTTP {answer.status_code}"
                                 f"{', ' + error if error else ''}). {RECONNECT}.")
