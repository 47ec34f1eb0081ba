"""What the overview page shows: connection health, each flow's last run, the paused/active switch and what
needs attention now. Read from the state table and the Xero secret only: opening the page costs no Autotask or
Xero call (their quotas belong to the sync)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from autoxero.console import FLOWS
from autoxero.state import AttentionItem, Control, ControlStatus, Runs, SettingsStore
from autoxero.state.table import control_key, run_key, settings_key

if TYPE_CHECKING:
    from autoxero.runtime import Runtime

XERO_REFRESH_TOKEN_DAYS = 60  # Xero ends a connection whose refresh token goes unused this long


@dataclass(frozen=True, slots=True)
class XeroHealth:
    connected: bool
    organisation: str
    token_age_days: float | None
    days_to_expiry: float | None
    access_token_minutes: float | None

    @property
    def warning(self) -> bool:
        return not self.connected or (self.days_to_expiry is not None and self.days_to_expiry < 15)


@dataclass(frozen=True, slots=True)
class QuotaReading:
    """Autotask's own count at the last `ThresholdInformation` read (autotask/pacing.py), not an estimate: the
    database's requests in the rolling hour, every integration's, and autoxero's share of them."""

    at: int
    threshold: int
    database_count: int
    own_count: int  # requests autoxero had set aside for itself in the hour (in blocks, before making them)
    max_share: float  # the share of the threshold autoxero keeps the database under (settings)
    own_budget: int  # the most autoxero sets aside for itself in any hour (settings)

    @property
    def database_share(self) -> float:
        return self.database_count / self.threshold if self.threshold else 0.0

    @property
    def own_share(self) -> float:
        """Of autoxero's own hourly budget."""
        return self.own_count / self.own_budget if self.own_budget else 0.0


@dataclass(frozen=True, slots=True)
class AutotaskHealth:
    reached_at: int | None
    calls_last_run: int
    problem: str | None
    quota: QuotaReading | None  # None: no ThresholdInformation read yet


@dataclass(frozen=True, slots=True)
class Overview:
    xero: XeroHealth
    autotask: AutotaskHealth
    runs: list[dict[str, Any]]
    control: ControlStatus
    attention: list[AttentionItem]
    skipped: int
    xero_kind: str = "oauth"  # "custom_connection": client credentials, no refresh token to lapse


def xero_health(rt: Runtime, now: float | None = None) -> XeroHealth:
    now = time.time() if now is None else now
    secret = rt.secrets.xero(rt.config.xero_secret_id)
    token = secret.token_set
    if token is None or not secret.connected:
        return XeroHealth(False, secret.tenant_name or "", None, None, None)
    last = secret.last_refreshed
    age = (now - last) / 86400 if last else None
    return XeroHealth(True, secret.tenant_name or secret.tenant_id or "",
                      None if age is None else round(age, 1),
                      None if age is None else round(XERO_REFRESH_TOKEN_DAYS - age, 1),
                      round((token.expires_at - now) / 60) if token.expires_at else None)


def autotask_health(runs: list[dict[str, Any]], reading: dict[str, int] | None, max_share: float,
                    own_budget: int) -> AutotaskHealth:
    """The last run's reach and problem; the quota from the last ThresholdInformation reading (`reading`, as
    state/quota.py's `last_reading` keeps it)."""
    quota = None if reading is None else QuotaReading(reading["at"], reading["threshold"], reading["count"],
                                                      reading["own"], max_share, own_budget)
    ran = [r for r in runs if r.get("at")]
    latest = max(ran, key=lambda r: r["at"], default=None)
    if latest is None:
        return AutotaskHealth(None, 0, None, quota)
    stopped = str(latest.get("stopped") or "")
    problem = stopped if "autotask" in stopped.lower() else None
    return AutotaskHealth(int(latest["at"]), int(latest.get("autotask_calls", 0)), problem, quota)


def overview(rt: Runtime) -> Overview:
    """Three table reads: one BatchGetItem for the runs, the switch, the settings and the quota reading; the
    attention list; the count of skipped records."""
    state = rt.state
    quota = state.autotask_quota
    items = state.table.get_many([*(run_key(flow) for flow in FLOWS), control_key(), settings_key(),
                                  quota.reading_key])
    runs = [{"flow": flow, **(Runs.parse(flow, items.get(_pair(run_key(flow)))) or {})} for flow in FLOWS]
    settings, _ = SettingsStore.parse(items.get(_pair(settings_key())))
    attention = sorted(state.attention.list(), key=lambda i: i.last_seen, reverse=True)
    health = autotask_health(runs, quota.parse_reading(items.get(_pair(quota.reading_key))),
                             float(settings.autotask.max_database_share), settings.autotask.hourly_budget)
    return Overview(xero=xero_health(rt), autotask=health, runs=runs,
                    control=Control.parse(items.get(_pair(control_key()))), attention=attention,
                    skipped=state.attention.skipped_count(), xero_kind=settings.xero.kind)


def _pair(key: dict[str, str]) -> tuple[str, str]:
    return key["pk"], key["sk"]
