"""Wiring a flow run from the runtime (clients, settings, the clock it must stop by)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autoxero.hints import RECONNECT
from autoxero.sync.run import RUN_SECONDS, FlowRun, execute

if TYPE_CHECKING:
    from autoxero.runtime import Kept, Runtime
    from autoxero.settings import SyncSettings


def build_run(rt: Runtime, flow: str, context: LambdaContext | None, dry_run: bool, *,
              settings: SyncSettings | None = None, pacer_max_age: float = 0, kept: Kept | None = None) -> FlowRun:
    """In Lambda a run stops by the function's deadline; anywhere else (the CLI) by RUN_SECONDS from now,
    which is shorter than the run's lease, so a long manual run can never outlive it. The settings are read
    once, for the run and its clients (or given: the caller just read them). `pacer_max_age`: see
    `Runtime.autotask_client`; `kept`: what the container keeps between runs (FlowRun.kept)."""
    remaining: Callable[[], int]
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        remaining = context.get_remaining_time_in_millis
    else:
        deadline = time.monotonic() + RUN_SECONDS

        def remaining() -> int:
            return int((deadline - time.monotonic()) * 1000)
    settings = settings or rt.settings
    return FlowRun(flow=flow, state=rt.state, settings=settings,
                   autotask=rt.autotask_client(settings.autotask, pacer_max_age=pacer_max_age),
                   xero=rt.xero_client(), dry_run=dry_run, remaining_ms=remaining, kept=kept, **rt.run_options)


def execute_run(rt: Runtime, run: FlowRun, body: Callable[[FlowRun], None]) -> dict[str, Any]:
    summary = execute(run, body, rt.alerts)
    if not run.dry_run:
        watch_connection(rt, run.flow)
    return summary


IDLE_WARNING_DAYS = 45  # Xero drops a refresh token left unused for 60 days


def watch_connection(rt: Runtime, flow: str) -> float | None:
    """Days since the Xero token set was last refreshed: a metric every run (its alarm also fires when the
    metric stops arriving, i.e. when the stack stops running), and an alert well before Xero's 60 days."""
    from aws_lambda_powertools.metrics import MetricUnit

    from autoxero.observability import metrics

    last = rt.secrets.xero(rt.config.xero_secret_id).last_refreshed
    # One series per stack (the alarm's dimensions): every stack in a region shares the namespace.
    metrics.dimension_set["flow"] = flow
    metrics.dimension_set["stack"] = rt.config.stack
    if rt.settings.xero.kind == "custom_connection":
        # No refresh token to lose; reporting 0 keeps "no data" meaning "this stack stopped running".
        metrics.add_metric(name="XeroConnectionIdleDays", unit=MetricUnit.Count, value=0)
        return None
    if not last:
        return None
    idle = max(0.0, (time.time() - float(last)) / 86400)
    metrics.add_metric(name="XeroConnectionIdleDays", unit=MetricUnit.Count, value=round(idle, 2))
    if idle >= IDLE_WARNING_DAYS:
        _warn_idle_once_a_day(rt, idle, flow)
    return idle


IDLE_WARNED = "xero-idle-warning"


def _warn_idle_once_a_day(rt: Runtime, idle: float, flow: str) -> None:
    """Its own e-mail, apart from any run's digest, and one a day at most (runs come every few minutes)."""
    from autoxero.state import CacheEntry

    now = time.time()
    last = rt.state.cache.get(IDLE_WARNED)
    if last is not None and last.expires_at > now:
        return
    left = max(0, 60 - int(idle))
    rt.alerts.notify(f"the Xero connection ends in about {left} days unless it is used",
                     f"The Xero connection of {rt.config.stack} was last used {idle:.0f} days ago ({flow} noticed). "
                     f"Xero ends a connection left unused for 60 days; after that nothing reaches Xero until "
                     "someone reconnects.\nWhat to do: check that the schedules are running (`autoxero status`), "
                     f"or reconnect now: {RECONNECT}; reconnecting loses nothing.")
    rt.state.cache.put(IDLE_WARNED, CacheEntry(str(now), now + 86_400))
