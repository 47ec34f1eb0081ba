"""A whole local deployment: the stack's resources in moto, the sandbox's APIs, a Runtime wired to both.

Tests, the demo, `autoxero sync` and the benchmarks all build on this, so each runs the same code paths
a deployed stack runs; only endpoints differ.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from autoxero.config import RuntimeConfig
from autoxero.runtime import Runtime
from autoxero_cli.local_stack import LocalStack
from autoxero_cli.localenv import LOCAL_STACK_NAME, sandbox_credentials, seed_secrets, stack_parameters
from sandbox.server import Sandbox

HARNESS_START_DATE = "2000-01-01"  # tests and benchmarks sync a fixture's whole history


def with_start_date(settings: dict[str, Any]) -> dict[str, Any]:
    """A harness's settings document with invoices.start_date set (it has no default: a person chooses it)."""
    invoices = dict(settings.get("invoices") or {})
    invoices.setdefault("start_date", HARNESS_START_DATE)
    return {**settings, "invoices": invoices}


@dataclass
class LocalDeployment:
    sandbox: Sandbox
    stack: LocalStack
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, sandbox: Sandbox, endpoint_url: str | None = None, name: str = LOCAL_STACK_NAME,
               options: dict[str, Any] | None = None, credentials: dict[str, Any] | None = None) -> LocalDeployment:
        """`options`: {"xero": {...}, "autotask": {...}, "run": {...}, "tokens": {...}} keyword arguments for
        the clients, runs and the token manager (e.g. a clock and `sleep` on the sandbox clock)."""
        stack = LocalStack(name, endpoint_url, stack_parameters()).create()
        seed_secrets(stack, credentials or sandbox_credentials())
        return cls(sandbox, stack, dict(options or {}))

    def environment(self, logical_id: str = "SyncInvoicesFunction") -> dict[str, str]:
        return self.stack.environment(logical_id, self.sandbox.endpoints)

    def config(self, logical_id: str = "SyncInvoicesFunction") -> RuntimeConfig:
        return RuntimeConfig.from_env(self.environment(logical_id))

    def runtime(self, logical_id: str = "SyncInvoicesFunction") -> Runtime:
        from autoxero.secrets import SecretStore
        from autoxero.state import State, StateTable

        rt = Runtime(self.config(logical_id))
        rt.__dict__["secrets"] = SecretStore(self.stack.client("secretsmanager"))
        rt.__dict__["state"] = State.over(StateTable.connect(rt.config.table_name, region_name="us-east-1",
                                                             endpoint_url=self.stack.endpoint_url))
        rt.xero_options.update(self.options.get("xero", {}))
        rt.autotask_options.update(self.options.get("autotask", {}))
        rt.run_options.update(self.options.get("run", {}))
        rt.token_options.update(self.options.get("tokens", {}))
        return rt

    def go_live(self, by: str = "local harness") -> None:
        """Push settings (the fixture's whole history, from 2000, when none were pushed) and resume, as a
        person does before a new stack may write (tests and benchmarks; the demo pushes suggested ones)."""
        from autoxero.settings import SyncSettings

        state = self.runtime().state
        if state.settings.load()[1] == 0:
            state.settings.save(SyncSettings.model_validate(with_start_date({})), 0, author=by)
        state.control.resume(by)

    def connect_xero_directly(self) -> None:
        """Store a token set as a finished connect would (tests; the demo runs the real OAuth flow)."""
        from autoxero.secrets import SecretStore

        token = self.sandbox.xero.issue_token_set(
            scope="offline_access accounting.invoices accounting.payments accounting.contacts accounting.settings")
        token["expires_at"] = time.time() + float(token.get("expires_in", 1800))
        store = SecretStore(self.stack.client("secretsmanager"))
        secret_id = self.stack.physical["XeroSecret"]
        now = int(time.time())
        store.update(secret_id, {"token_set": token, "tenant_id": self.sandbox.xero.tenant_id,
                                 "tenant_name": "Harbour IT Ltd", "connected_at": now, "refreshed_at": now})
        store.update(self.stack.physical["XeroWebhookSecret"], {"tenant_id": self.sandbox.xero.tenant_id})
