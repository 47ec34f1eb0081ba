"""The paused/active switch and records marked never to sync, in the table and the ledger."""

from __future__ import annotations

import pytest

from autoxero.settings import SyncSettings
from autoxero.state import ResumeRefused, State, StateError


def test_a_new_stack_is_paused_until_settings_are_pushed_and_someone_resumes(state: State, clock):
    paused, by, at, reason = state.control.status()
    assert paused and by is None and at is None and "starts paused" in (reason or "")
    assert state.control.paused()
    with pytest.raises(ResumeRefused, match="no settings have been pushed"):
        state.control.resume("ann@example.com")
    assert state.control.paused()

    state.settings.save(SyncSettings(), 0, author="ann@example.com")
    status = state.control.resume("ann@example.com")
    assert not status.paused and status.by == "ann@example.com"
    assert status.at is not None and status.at.timestamp() == int(clock.now)
    assert not state.control.paused()


def test_pause_records_who_and_why_in_the_status_and_the_ledger(state: State, clock):
    state.settings.save(SyncSettings(), 0)
    state.control.resume("ann")
    clock.advance(60)
    status = state.control.pause("bob", "month-end close")
    assert status.paused and status.by == "bob" and status.reason == "month-end close"
    assert "paused by bob" in status.describe() and "month-end close" in status.describe()
    assert [(action, who) for _, action, who in state.control.history()] == [("resume", "ann"), ("pause", "bob")]


def test_pausing_needs_a_name(state: State):
    with pytest.raises(StateError):
        state.control.pause("  ", "no one")


def test_skip_is_listed_checked_and_undone_with_the_ledger(state: State):
    state.attention.raise_("invoices", 42, code="tax_unmapped", message="Invoice 42: no tax", fix="map it")
    state.attention.skip("invoices", 42, "entered in Xero by hand", "ann", label="Invoice INV-42")
    assert state.attention.is_skipped("invoices", 42)
    assert not state.attention.is_skipped("invoices", 43)
    assert not state.attention.is_skipped("contacts", 42)
    assert state.attention.get("invoices", 42) is None  # a person decided: it no longer needs attention
    [skipped] = state.attention.skipped()
    assert (skipped.flow, skipped.record_id, skipped.reason, skipped.by, skipped.label) == (
        "invoices", "42", "entered in Xero by hand", "ann", "Invoice INV-42")
    assert state.attention.skipped_ids("invoices") == {"42"} and state.attention.skipped_ids("contacts") == set()
    assert state.attention.list() == []  # skips are not attention items

    assert state.attention.unskip("invoices", 42, "bob")
    assert not state.attention.unskip("invoices", 42, "bob")
    assert not state.attention.is_skipped("invoices", 42)
    actions = [(e.action, e.detail.get("by")) for e in state.ledger.history("invoices", 42)]
    assert ("skipped", "ann") in actions and ("unskipped", "bob") in actions


def test_a_skip_needs_a_reason(state: State):
    with pytest.raises(ValueError, match="reason"):
        state.attention.skip("invoices", 1, " ", "ann")
