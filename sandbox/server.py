"""Both simulators together, on one sandbox clock: what `autoxero sandbox serve`, the demo and the flow
tests start."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sandbox.autotask import AutotaskSimulator
from sandbox.autotask import create_app as autotask_app
from sandbox.core import RunningServer, SandboxClock, serve_in_thread
from sandbox.xero import XeroSimulator
from sandbox.xero import create_app as xero_app

DEMO_FIXTURE = Path(__file__).parent / "fixtures" / "demo.json"


def load_fixture(path: Path | str | None = None) -> dict[str, Any]:
    return dict(json.loads(Path(path or DEMO_FIXTURE).read_text()))


@dataclass
class Sandbox:
    clock: SandboxClock
    autotask: AutotaskSimulator
    xero: XeroSimulator
    autotask_server: RunningServer
    xero_server: RunningServer

    @classmethod
    def start(cls, fixture: dict[str, Any] | Path | str | None = None, *, autotask_port: int = 0,
              xero_port: int = 0, xero_limits: dict[str, int] | None = None,
              autotask_limits: dict[str, int] | None = None) -> Sandbox:
        data = fixture if isinstance(fixture, dict) else load_fixture(fixture)
        clock = SandboxClock()
        autotask = AutotaskSimulator(clock, **(autotask_limits or {}))
        xero = XeroSimulator(clock, **(xero_limits or {}))
        autotask.load(data)
        xero.load(data)
        return cls(clock, autotask, xero, serve_in_thread(autotask_app(autotask), autotask_port),
                   serve_in_thread(xero_app(xero), xero_port))

    def load(self, fixture: dict[str, Any]) -> None:
        """Replace both systems' records with a fixture's (and clear their call logs and faults)."""
        self.autotask.reset()
        self.autotask.load(fixture)
        self.xero.load(fixture)
        self.xero.reset()

    @property
    def autotask_url(self) -> str:
        return self.autotask_server.url

    @property
    def xero_url(self) -> str:
        return self.xero_server.url

    @property
    def endpoints(self) -> dict[str, str]:
        """The environment variables that point autoxero at this sandbox instead of the real APIs."""
        return {
            "AUTOXERO_AUTOTASK_ZONE_URL": f"{self.autotask_url}/atservicesrest",
            "AUTOXERO_XERO_API_URL": f"{self.xero_url}/api.xro/2.0",
            "AUTOXERO_XERO_IDENTITY_URL": self.xero_url,
            "AUTOXERO_XERO_LOGIN_URL": f"{self.xero_url}/identity/connect/authorize",
            "AUTOXERO_XERO_TOKEN_URL": f"{self.xero_url}/connect/token",
        }

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Until neither simulator is serving a request (see FaultInjector.wait_idle)."""
        return all(sim.faults.wait_idle(timeout) for sim in (self.autotask, self.xero))

    def stop(self) -> None:
        self.autotask_server.stop()
        self.xero_server.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
