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
