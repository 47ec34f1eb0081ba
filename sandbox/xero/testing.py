"""A running Xero sandbox for tests and demos: simulator + server + demo fixture + an authorised client.

    with XeroSandbox.start() as xero:
        api = xero.client()                       # Bearer token and xero-tenant-id already set
        api.get("/api.xro/2.0/Contacts")
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from sandbox.core import RunningServer, SandboxClock, serve_in_thread
from sandbox.fixtures.xero_demo import xero_demo, xero_sandbox_credentials

from .app import create_app
from .simulator import XeroSimulator

API = "/api.xro/2.0"
_REPO = Path(__file__).resolve().parents[2]
SPEC_DIRS = [Path(os.environ["XERO_SPECS_DIR"])] if os.environ.get("XERO_SPECS_DIR") else []
SPEC_DIRS += [_REPO / "tests" / "contract" / "specs", _REPO.parent / "shared" / "specs"]


def find_spec(name: str) -> Path | None:
    """One of Xero's OpenAPI documents (MIT): $XERO_SPECS_DIR, the repo's specs/, or the shared folder."""
    return next((d / name for d in SPEC_DIRS if (d / name).is_file()), None)
# 10:00 on Tuesday 3 March 2026 in Auckland: after every timestamp in the demo fixture.
DEFAULT_START = datetime(2026, 3, 2, 21, 0, tzinfo=UTC)


class XeroSandbox:
    def __init__(self, sim: XeroSimulator, server: RunningServer, start_at: datetime | None = None) -> None:
        self.sim = sim
        self.start_at = start_at
        self.server = server
        self.url = server.url
        self._clients: list[httpx.Client] = []

    @classmethod
    def start(cls, fixture: dict[str, Any] | None = None, *, frozen: bool = True,
              start_at: datetime | None = DEFAULT_START, **limits: int) -> XeroSandbox:
        """Simulator + server on the demo fixture. By default the sandbox clock is frozen at `start_at`
        (`start_at=None`: frozen at the current time); `frozen=False` runs it from the wall clock."""
        clock = SandboxClock()
        if frozen:
            clock.freeze()
            if start_at is not None:
                clock.set(start_at)
        sim = XeroSimulator(clock, **limits)
        sim.load(fixture if fixture is not None else {"xero": xero_demo(),
                                                      "sandbox": {"xero": xero_sandbox_credentials()}})
        return cls(sim, serve_in_thread(create_app(sim)), start_at if frozen else None)

    def reset(self) -> None:
        """The fixture state again, and the clock back at `start_at`."""
        if self.start_at is not None:
            self.sim.clock.set(self.start_at)
        self.sim.reset()

    @property
    def tenant_id(self) -> str:
        return self.sim.tenant_id

    def token(self, **options: Any) -> dict[str, Any]:
        return self.sim.issue_token_set(**options)

    def client(self, token: dict[str, Any] | None = None, *, tenant: str | None = "default",
               timeout: float = 10.0) -> httpx.Client:
        """An httpx client on the server root with `Authorization` (and `xero-tenant-id` unless tenant=None)."""
        token = token if token is not None else self.token()
        headers = {"Authorization": f"Bearer {token['access_token']}", "Accept": "application/json"}
        if tenant is not None:
            headers["xero-tenant-id"] = self.tenant_id if tenant == "default" else tenant
        client = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)
        self._clients.append(client)
        return client

    def control(self) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=10.0)
        self._clients.append(client)
        return client

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        self.server.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
