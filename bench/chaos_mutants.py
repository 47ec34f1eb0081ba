"""Named broken versions of the product, for the chaos check to catch.

A check that passes whatever the product does proves nothing. Each mutant below removes or reorders one
piece of the exactly-once path (sync/once.py, the run lease, the token rotation) the way a plausible
refactoring could; `make chaos` runs every one and must FAIL on each (a mutant the truth checks do not
catch is printed as "survived", and the run exits non-zero).

A mutant is installed by patching the product's own functions in the process that runs one scenario, and
removed afterwards; the product's code on disk is never changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Mutant:
    name: str
    what: str
    install: Callable[[], Callable[[], None]]  # patches the product; returns what undoes it


def _patch(target: Any, attribute: str, replacement: Any) -> Callable[[], None]:
    original = target.__dict__[attribute] if isinstance(target, type) else getattr(target, attribute)
    setattr(target, attribute, replacement)
    return lambda: setattr(target, attribute, original)


def _all(undo: list[Callable[[], None]]) -> Callable[[], None]:
    def undo_all() -> None:
        for step in reversed(undo):
            step()

    return undo_all


def _no_lookup() -> Callable[[], None]:
    from autoxero.sync import once

    return _patch(once, "_find", lambda run, pending: {})


def _fresh_key() -> Callable[[], None]:
    """Every attempt of a write, retries included, carries a new Idempotency-Key (the product derives one
    per batch and keeps it across retries)."""
    from autoxero.xero.client import XeroClient

    call = XeroClient.__dict__["_call"]

    class FreshKeys:
        def __init__(self, api: Any) -> None:
            self._api = api

        def __getattr__(self, operation: str) -> Any:
            method = getattr(self._api, operation)

            def send(*args: Any, **kwargs: Any) -> Any:
                if "idempotency_key" in kwargs:
                    kwargs["idempotency_key"] = f"autoxero-{operation}-{uuid.uuid4().hex}"
                return method(*args, **kwargs)

            return send

    def call_with_fresh_keys(self: XeroClient, api: Any, operation: str, *args: Any, **kwargs: Any) -> Any:
        return call(self, FreshKeys(api), operation, *args, **kwargs)

    return _patch(XeroClient, "_call", call_with_fresh_keys)


def _current_identity() -> Callable[[], None]:
    from autoxero.sync import once

    return _patch(once, "_stored", lambda entry, write: write.identity)


def _no_run_lease() -> Callable[[], None]:
    from autoxero.state.leases import Leases

    acquire, renew = Leases.__dict__["acquire"], Leases.__dict__["renew"]

    def acquire_any(self: Leases, name: str, holder: str, seconds: float) -> bool:
        return True if name.startswith("run-") else bool(acquire(self, name, holder, seconds))

    def renew_any(self: Leases, name: str, holder: str, seconds: float) -> None:
        if not name.startswith("run-"):
            renew(self, name, holder, seconds)

    undo = [_patch(Leases, "acquire", acquire_any), _patch(Leases, "renew", renew_any)]
    return _all(undo)


def _stamp_before_record() -> Callable[[], None]:
    """The invoices flow records Xero's answer in the id map only after stamping Autotask: a death in
    between leaves an invoice stamped (never a candidate again) whose id map entry stays pending."""
    from autoxero.state.idmap import IdMap
    from autoxero.sync import invoices

    write_once, stamp = invoices.__dict__["write_once"], invoices.__dict__["_stamp"]
    deferred: list[tuple[IdMap, tuple[Any, ...]]] = []

    def write_then_defer(run: Any, *args: Any, **kwargs: Any) -> Any:
        ids = run.state.ids
        ids.record_many = lambda *a: deferred.append((ids, a))  # instance attribute: the class one is kept
        try:
            return write_once(run, *args, **kwargs)
        finally:
            del ids.record_many

    def stamp_then_record(run: Any, synced: Any) -> None:
        stamp(run, synced)
        while deferred:
            ids, args = deferred.pop(0)
            IdMap.record_many(ids, *args)

    undo = [_patch(invoices, "write_once", write_then_defer), _patch(invoices, "_stamp", stamp_then_record)]
    return _all(undo)


def _rotation_not_stored() -> Callable[[], None]:
    """The refreshed token set is used but never stored: the next invocation refreshes with the rotated
    refresh token, which Xero accepts for its 30-minute grace only."""
    from autoxero.xero.tokens import TokenManager

    def rotate_without_storing(self: TokenManager, secret: Any) -> dict[str, Any]:
        self.refreshes += 1
        return self._fetch(secret)

    return _patch(TokenManager, "_rotate", rotate_without_storing)


MUTANTS: dict[str, Mutant] = {m.name: m for m in (
    Mutant("no-lookup", "(a) no pending look-up before re-creating", _no_lookup),
    Mutant("fresh-key", "(b) an Idempotency-Key that changes on every attempt", _fresh_key),
    Mutant("current-identity", "(c) pending entries looked up by the current number, not the write-ahead's",
           _current_identity),
    Mutant("no-run-lease", "(d) no run lease: overlapping runs both write", _no_run_lease),
    Mutant("stamp-before-record", "(e) Autotask stamped before the id map records Xero's answer",
           _stamp_before_record),
    Mutant("rotation-not-stored", "(f) a rotated refresh token used without storing the new one",
           _rotation_not_stored),
)}


@contextmanager
def installed(name: str | None) -> Iterator[None]:
    if name is None:
        yield
        return
    undo = MUTANTS[name].install()
    try:
        yield
    finally:
        undo()
