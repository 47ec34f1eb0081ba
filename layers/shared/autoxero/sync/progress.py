"""A backfill's progress and its expected end, for `autoxero status`: invoices left, the pace Autotask's share
allows, and when the backlog should be done at that pace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from autoxero.autotask.pacing import hourly_capacity

if TYPE_CHECKING:
    from autoxero.settings import SyncSettings
    from autoxero.state import State

_WAITING_ON_A_PERSON = ("held", "attention")


@dataclass(frozen=True, slots=True)
class BackfillProgress:
    left: int  # invoices still to send or stamp (not counting those waiting on a person)
    done_last_run: int
    requests_per_invoice: float
    per_hour: int  # Autotask requests an hour autoxero can use at the other integrations' current rate
    eta_hours: float | None
    paused_until: float

    def describe(self, now: float) -> str:
        if self.left == 0:
            return "invoices: no backlog"
        pace = f"{self.per_hour:,} Autotask requests an hour (~{self.requests_per_invoice:.2f} per invoice)"
        eta = f"about {self.eta_hours:.1f} h to go" if self.eta_hours is not None else "no room this hour"
        minutes = (self.paused_until - now) / 60
        paused = f"; paused for the other integrations' share, resumes in {minutes:.0f} min" if minutes > 0 else ""
        return (f"invoices backlog: {self.left:,} left, {self.done_last_run:,} done in the last run; {pace}; "
                f"{eta}{paused}")


def backfill_progress(state: State, settings: SyncSettings) -> BackfillProgress | None:
    """From the last invoices run and the last ThresholdInformation reading; None before the first run."""
    last = state.runs.last("invoices")
    if not last or "candidates" not in last:
        return None
    done = int(last.get("stamped", 0))
    left = max(0, int(last["candidates"]) - done - sum(int(last.get(k, 0)) for k in _WAITING_ON_A_PERSON))
    per_invoice = max(1.0, int(last.get("autotask_calls", 0)) / done) if done else 1.05
    reading = state.autotask_quota.last_reading()
    per_hour = settings.autotask.hourly_budget if reading is None else hourly_capacity(
        reading["threshold"], reading["count"], reading["own"], settings.autotask.max_database_share,
        settings.autotask.hourly_budget)
    eta = left * per_invoice / per_hour if per_hour else None
    return BackfillProgress(left, done, per_invoice, per_hour, eta, state.autotask_quota.paused_until())
