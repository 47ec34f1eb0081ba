"""A warm Lambda container keeps its Runtime between invocations: a settings push (from the console or the CLI)
must still reach the very next run in that container."""

from __future__ import annotations

from autoxero.config import RuntimeConfig
from autoxero.runtime import Runtime
from autoxero.settings import SyncSettings


def test_a_warm_runtime_sees_settings_pushed_after_its_first_run(stack, state):
    rt = Runtime(RuntimeConfig.from_env(stack.environment("SyncInvoicesFunction")))
    rt.__dict__["state"] = state
    assert rt.settings.invoices.default_account_code == "200"  # the first run in this container
    pushed = SyncSettings.model_validate({"invoices": {"default_account_code": "210"}})
    state.settings.save(pushed, state.settings.load()[1], author="finance@example.com")
    assert rt.settings.invoices.default_account_code == "210"  # the next run, same container


def test_the_console_keeps_one_autotask_pacer_a_while_under_the_same_settings(stack, state):
    """A scheduled run (no max age) gets a fresh pacer, so its first request reads Autotask's threshold; the
    console's pages share one for `max_age` seconds, and a settings change or its age ends that."""
    rt = Runtime(RuntimeConfig.from_env(stack.environment("ConsoleFunction")))
    rt.__dict__["state"] = state
    now = [0.0]
    rt.kept._clock = lambda: now[0]
    settings = rt.settings.autotask
    assert rt._pacer(settings, state.table.now, 0) is not rt._pacer(settings, state.table.now, 0)
    kept = rt._pacer(settings, state.table.now, 120)
    now[0] = 119.0
    assert rt._pacer(settings, state.table.now, 120) is kept
    other = settings.model_copy(update={"hourly_budget": settings.hourly_budget - 1})
    assert rt._pacer(other, state.table.now, 120) is not kept
    now[0] = 121.0
    assert rt._pacer(settings, state.table.now, 120) is not kept
