"""What both simulators share: the sandbox clock, the call log, fault injection and the server runner.

The simulators are Starlette apps served by uvicorn on loopback. Everything here is development tooling
and is never deployed.
"""

from __future__ import annotations

import asyncio
import fnmatch
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class SandboxClock:
    """Wall-clock time shifted by an offset that tests and benchmarks can advance.

    A benchmark that must live through Xero's minute windows advances the clock instead of sleeping.
    `freeze()` stops time where it is (deterministic tests); `advance()` works frozen or not.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_at: float | None = None

    def time(self) -> float:
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return time.time() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)

    def advance(self, seconds: float) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds

    def freeze(self) -> None:
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = time.time() + self._offset

    def unfreeze(self) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None

    def set(self, when: datetime) -> None:
        with self._lock:
            target = when.timestamp()
            if self._frozen_at is not None:
                self._frozen_at = target
            else:
                self._offset = target - time.time()

    def in_(self, **delta: float) -> datetime:
        return self.now() + timedelta(**delta)


@dataclass
class CallLog:
    """Counts of calls per (method, path template) — what benchmarks read to count API calls."""

    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, method: str, route: str) -> None:
        with self.lock:
            self.counts[f"{method} {route}"] += 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"total": sum(self.counts.values()), "calls": dict(self.counts)}

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()


@dataclass
class FaultRule:
    """One injected fault. `kind` is status | latency | timeout | drop.

    It fires on requests whose method and path match (glob): with `probability` (seeded), on the `nth`
    matching call, or — with neither — on every matching call; at most `times` times (None: no limit).
    """

    kind: str
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    latency: float = 0.0
    path: str = "*"
    method: str = "*"
    probability: float | None = None
    nth: int | None = None
    times: int | None = None
    seen: int = 0
    fired: int = 0


class FaultInjector:
    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._random = random.Random(0)
        self._in_flight = 0
        self._idle = threading.Condition()
        # Time spent serving requests, summed: a bench subtracts it to see the client's own share of its wall time.
        self.served_seconds = 0.0

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Counts a request from its arrival until the server is done with it (whether or not anyone still
        waits for the answer)."""
        with self._idle:
            self._in_flight += 1
        started = time.perf_counter()
        try:
            yield
        finally:
            with self._idle:
                self._in_flight -= 1
                self.served_seconds += time.perf_counter() - started
                self._idle.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Until no request is being served. A harness that jumps the sandbox clock calls this first: in real
        time a server finishes a request it has begun within its latency, long before a 15-minute schedule comes
        round, so a request held for 0.8 s must not be processed after the clock has moved on by minutes (past,
        say, Xero's 6-minute Idempotency-Key lifetime)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def configure(self, rules: list[dict[str, Any]], seed: int | None = None) -> None:
        with self._lock:
            self._rules = [FaultRule(**r) for r in rules]
            self._random = random.Random(seed if seed is not None else 0)

    def clear(self) -> None:
        self.configure([])

    def pick(self, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for rule in self._rules:
                if rule.method not in ("*", method) or not fnmatch.fnmatch(path, rule.path):
                    continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                rule.seen += 1
                always = rule.nth is None and rule.probability is None
                hit = always or (rule.nth is not None and rule.seen == rule.nth) or (
                    rule.probability is not None and self._random.random() < rule.probability
                )
                if hit:
                    rule.fired += 1
                    return rule
            return None


class FaultMiddleware:
    """Applies injected faults before the simulator sees the request. `/_sandbox/` is never faulted."""

    def __init__(self, app: ASGIApp, faults: FaultInjector, timeout_seconds: float = 30.0) -> None:
        self.app = app
        self.faults = faults
        self.timeout_seconds = timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        with self.faults.serving():
            await self._serve(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        rule = self.faults.pick(scope["method"], scope["path"])
        if rule is None:
            await self.app(scope, receive, send)
            return
        if rule.kind == "latency":
            # A request reaches the server whole before the server is slow to answer it; read it first, so that a
            # client that gives up meanwhile loses only the answer, not the effect (a real server goes on
            # processing a request whose client has gone: RFC 9110 §9.2.2 is why idempotent retries exist).
            arrived = await _whole_request(receive)
            await asyncio.sleep(rule.latency)
            await self.app(scope, _replay(arrived, receive), send)
        elif rule.kind == "timeout":
            # Hold the connection open longer than any sane client timeout, then answer nothing useful.
            await asyncio.sleep(rule.latency or self.timeout_seconds)
            await Response(status_code=504)(scope, receive, send)
        elif rule.kind == "drop":
            # Promise a body and break off: the client sees the connection die mid-response.
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-length", b"1000"), (b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b'{"partial": ', "more_body": True})
            raise ConnectionAbortedError("sandbox: injected dropped connection")
        else:
            body = rule.body if rule.body is not None else {"errors": ["sandbox: injected fault"]}
            await JSONResponse(body, status_code=rule.status, headers=rule.headers)(scope, receive, send)


async def _whole_request(receive: Receive) -> list[Message]:
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """The request as it arrived, then whatever the connection says next (e.g. that the client has gone)."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


@dataclass
class RunningServer:
    server: uvicorn.Server
    thread: threading.Thread
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve_in_thread(app: ASGIApp, port: int = 0, host: str = "127.0.0.1") -> RunningServer:
    """Serve an ASGI app on loopback from a daemon thread; port 0 picks a free port."""
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only when the listening
    # socket's proto is TCP; with proto 0 Nagle + delayed ACK add ~40 ms to every keep-alive request.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                            timeout_keep_alive=30, limit_concurrency=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name=f"sandbox-{sock.getsockname()[1]}")
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("sandbox server did not start")
        time.sleep(0.01)
    return RunningServer(server=server, thread=thread, port=sock.getsockname()[1])


def request_route(request: Request) -> str:
    """The route template of a request (e.g. `/api.xro/2.0/Invoices/{id}`), for the call log."""
    route = request.scope.get("route")
    return getattr(route, "path", request.url.path)
