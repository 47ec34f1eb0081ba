"""The objects a handler needs, built once per Lambda container from the environment and reused warm.

Each piece is built on first use, so a webhook receiver that only needs a secret and a queue never pays
for the table or the Xero SDK.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from autoxero.config import RuntimeConfig
from autoxero.queue import EventQueue
from autoxero.secrets import SecretStore
from autoxero.state import State, StateTable

if TYPE_CHECKING:  # the webhook receivers never pay for importing the Xero SDK
    import httpx

    from autoxero.alerts import Alerts
    from autoxero.autotask.client import AutotaskClient
    from autoxero.autotask.pacing import Pacer
    from autoxero.autotask.zone import DynamoZoneCache
    from autoxero.settings import AutotaskSettings, SyncSettings
    from autoxero.xero.client import XeroClient
    from autoxero.xero.tokens import TokenManager


KEPT_SECONDS = 60


class Runtime:
    def __init__(self, config: RuntimeConfig | None = None) -> None:
        self._config = config
        # Local tools (the demo, benchmarks) set these: e.g. a sleep that advances the sandbox clock.
        self.xero_options: dict[str, Any] = {}
        self.autotask_options: dict[str, Any] = {}
        self.run_options: dict[str, Any] = {}
        self.token_options: dict[str, Any] = {}

    @cached_property
    def config(self) -> RuntimeConfig:
        return self._config or RuntimeConfig.from_env()

    @cached_property
    def secrets(self) -> SecretStore:
        return SecretStore()

    @cached_property
    def state(self) -> State:
        return State.over(StateTable.connect(self.config.table_name), self.config.ledger_retention_days)

    @cached_property
    def events_queue(self) -> EventQueue:
        if not self.config.events_queue_url:
            from autoxero.config import ConfigurationError

            raise ConfigurationError("environment variable AUTOXERO_EVENTS_QUEUE_URL is not set")
        return EventQueue(self.config.events_queue_url)


    @cached_property
    def kept(self) -> Kept:
        """Reference data (Autotask's lists; Xero's accounts, tax rates, ...) kept for a minute between the
        console's page views: it changes when a person edits the other system's settings, and the table itself
        keeps it for an hour (Autotask) or six (Xero). The flows' scheduled runs do not use it."""
        return Kept(KEPT_SECONDS)

    @property
    def settings(self) -> SyncSettings:
        """Read at each use (one GetItem per run), never kept: a warm container's next run must see a push."""
        return self.state.settings.load()[0]

    @cached_property
    def xero_tokens(self) -> TokenManager:
        from autoxero.xero.tokens import TokenManager

        return TokenManager(self.secrets, self.config.xero_secret_id, self.state.leases,
                            token_url=self.config.xero_token_url, cache=self.state.cache,
                            kind=self.settings.xero.kind,
                            **self.token_options)

    @cached_property
    def alerts(self) -> Alerts:
        from autoxero.alerts import Alerts

        return Alerts(self.config.alert_topic_arn, self.config.customer)

    def xero_client(self, **options: Any) -> XeroClient:
        from autoxero.xero.client import XeroClient

        tokens = self.xero_tokens
        return XeroClient(tokens.sdk_token, tokens.tenant_id(), api_url=self.config.xero_api_url,
                          identity_url=self.config.xero_identity_url, on_unauthorized=tokens.rejected,
                          **{**self.xero_options, **options})

    @cached_property
    def _zone_cache(self) -> DynamoZoneCache:
        from autoxero.autotask.zone import DynamoZoneCache

        return DynamoZoneCache(self.state.cache, self.state.table.now)

    @cached_property
    def autotask_http(self) -> httpx.Client:
        """One HTTP client for every Autotask client this container makes: its connections (and their TLS
        sessions) are reused by the next run or page, and building a client's SSL context costs tens of ms."""
        import httpx

        from autoxero.autotask.transport import DEFAULT_TIMEOUT, USER_AGENT

        return httpx.Client(timeout=DEFAULT_TIMEOUT, headers={"User-Agent": USER_AGENT})

    def autotask_client(self, settings: AutotaskSettings | None = None, *, pacer_max_age: float = 0,
                        **options: Any) -> AutotaskClient:
        """A client for one run. `settings`: the run's own (read once per run), else read now. `pacer_max_age`:
        how long this container may keep handing out one pacer's block of granted requests (see `_pacer`)."""
        from autoxero.autotask.client import AutotaskClient
        from autoxero.autotask.limiter import DynamoLimiter

        secret = self.secrets.read(self.config.autotask_secret_id)
        merged = {**self.autotask_options, **options}
        clock = merged.pop("clock", None) or time.time  # local tools pace on the sandbox clock
        pacer = merged.pop("pacer", None) or self._pacer(settings or self.settings.autotask, clock, pacer_max_age)
        merged.setdefault("http", self.autotask_http)
        return AutotaskClient.from_secret(secret, zone_lookup_url=self.config.autotask_zone_lookup_url,
                                          zone_cache=self._zone_cache,
                                          limiter=merged.pop("limiter", None) or DynamoLimiter(self.state.table),
                                          pacer=pacer, **merged)

    def _pacer(self, settings: AutotaskSettings, clock: Callable[[], float], max_age: float) -> Pacer:
        """A new pacer (a run's first request reads ThresholdInformation), or, with `max_age`, the one this
        container made less than `max_age` seconds ago under the same settings. The console's pages are small
        reads seconds apart: each reading the threshold and reserving a fresh block would cost more table and
        Autotask calls than the page itself. The kept pacer's requests were reserved in the table when granted,
        so the stack-wide count stays right; its reading is at most `max_age` old."""
        from autoxero.autotask.pacing import Pacer

        def new() -> Pacer:
            return Pacer(self.state.autotask_quota, settings, clock=clock)

        if max_age <= 0:
            return new()
        return self.kept.get(f"autotask-pacer#{settings.model_dump_json()}", new, seconds=max_age)


class Kept:
    """What one container keeps between requests for `seconds` at most: the console's page views, seconds apart,
    need not each read and parse the same reference data (which the table itself keeps for an hour or more)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._items: dict[str, tuple[float, Any]] = {}

    def get[T](self, key: str, load: Callable[[], T], seconds: float | None = None) -> T:
        """The value kept under `key` if it is younger than `seconds` (the container's default if not given),
        else `load()`'s, kept from now."""
        now = self._clock()
        hit = self._items.get(key)
        if hit is not None and now - hit[0] < (self.seconds if seconds is None else seconds):
            value: T = hit[1]
            return value
        value = load()
        self._items[key] = (now, value)
        return value

    def put(self, key: str, value: object) -> None:
        self._items[key] = (self._clock(), value)


_runtime: Runtime | None = None


def runtime() -> Runtime:
    global _runtime  # noqa: PLW0603 (one per container, by design)
    if _runtime is None:
        _runtime = Runtime()
    return _runtime


def reset_runtime() -> None:
    """Forget the cached runtime (the local invoker and tests switch environments)."""
    global _runtime  # noqa: PLW0603
    _runtime = None
