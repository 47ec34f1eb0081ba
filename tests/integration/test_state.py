"""Every state operation against a moto table built from template.yaml's own definition."""

from __future__ import annotations

import threading

import pytest

from autoxero.settings import SyncSettings
from autoxero.state import CursorRegression, Identity, LeaseBusy, LeaseLost, SettingsConflict, State, StateTable
from autoxero.state.table import lease_key
from autoxero_cli.template import resources


def lease_holder(table: StateTable, name: str) -> str | None:
    """Who holds the lease, read from the table itself (None: no lease, or an expired one)."""
    item = table.get(lease_key(name))
    return str(item["holder"]) if item and float(item["expires_at"]) >= table.now() else None


def test_table_is_built_from_the_template(stack):
    description = stack.client("dynamodb").describe_table(TableName=stack.physical["StateTable"])["Table"]
    assert description["KeySchema"] == resources()["StateTable"]["Properties"]["KeySchema"]
    assert [i["IndexName"] for i in description["GlobalSecondaryIndexes"]] == ["gsi1"]
    assert stack.physical["StateTable"] == "acme-test-StateTable"


class TestCursors:
    def test_starts_empty_and_advances(self, state: State):
        assert state.cursors.get("invoices") is None
        state.cursors.advance("invoices", "2026-11-01T00:00:00Z")
        state.cursors.advance("invoices", "2026-11-02T00:00:00Z")
        assert state.cursors.get("invoices") == "2026-11-02T00:00:00Z"

    def test_refuses_to_move_backwards(self, state: State):
        state.cursors.advance("contacts", "2026-11-02T00:00:00Z")
        with pytest.raises(CursorRegression):
            state.cursors.advance("contacts", "2026-11-01T23:59:59Z")
        assert state.cursors.get("contacts") == "2026-11-02T00:00:00Z"

    def test_same_position_is_a_no_op(self, state: State):
        state.cursors.advance("contacts", "0000000042")
        state.cursors.advance("contacts", "0000000042")
        assert state.cursors.get("contacts") == "0000000042"

    def test_flows_are_independent(self, state: State):
        state.cursors.advance("contacts", "b")
        state.cursors.advance("invoices", "a")
        assert state.cursors.all(["contacts", "invoices", "payments"]) == {
            "contacts": "b", "invoices": "a", "payments": None}


class TestIdMap:
    def test_pending_with_its_identity_then_synced_in_both_directions(self, state: State):
        identity = Identity("INV-101", "InvoiceNumber", "invoice", "contact-1")
        assert state.ids.mark_pending("invoice", 101, identity, content_hash="h1")
        pending = state.ids.get("invoice", 101)
        assert pending.status == "pending" and pending.xero_id is None and pending.identity == identity
        state.ids.record("invoice", 101, xero_id="x-1", identity=identity, content_hash="h1", xero_number="INV-101")
        entry = state.ids.get("invoice", 101)
        assert entry is not None and entry.status == "synced" and entry.xero_id == "x-1"
        back = state.ids.by_xero_ids("invoice", ["x-1"])
        assert back["x-1"].autotask_id == "101" and back["x-1"].identity == identity

    def test_get_many_reads_in_batches(self, state: State):
        for i in range(130):
            state.ids.record("contact", i, xero_id=f"c-{i}", identity=Identity(f"n{i}"), content_hash=str(i))
        found = state.ids.get_many("contact", list(range(0, 140)))
        assert len(found) == 130
        assert found["129"].xero_id == "c-129"

    def test_kinds_do_not_collide(self, state: State):
        state.ids.record("invoice", 5, xero_id="inv", identity=Identity("a"), content_hash="h")
        state.ids.record("bill", 5, xero_id="bill", identity=Identity("b"), content_hash="h")
        assert state.ids.get("invoice", 5).xero_id == "inv"
        assert state.ids.get("bill", 5).xero_id == "bill"

    def test_neither_a_write_ahead_nor_a_refusal_overwrites_a_synced_entry(self, state: State):
        state.ids.record("invoice", 7, xero_id="x-7", identity=Identity("INV-7"), content_hash="h")
        assert not state.ids.mark_pending("invoice", 7, Identity("INV-7"), content_hash="other")
        assert not state.ids.refused("invoice", 7)
        entry = state.ids.get("invoice", 7)
        assert (entry.status, entry.xero_id, entry.content_hash) == ("synced", "x-7", "h")

    def test_a_batch_write_ahead_marks_each_record_as_one_write_ahead_would(self, state: State):
        """One transaction per 100; a batch holding a synced entry is cancelled whole by DynamoDB, then written
        one by one: the synced entry is left as it is, every other record is pending."""
        state.ids.record("invoice", 150, xero_id="x-150", identity=Identity("INV-150"), content_hash="h")
        records = [(n, Identity(f"INV-{n}", "InvoiceNumber", "invoice", "contact-1"), f"h{n}") for n in range(1, 231)]
        marked = state.ids.mark_pending_many("invoice", records)
        assert marked == {str(n) for n in range(1, 231)} - {"150"}
        entries = state.ids.get_many("invoice", range(1, 231))
        assert {k for k, e in entries.items() if e.status == "pending"} == marked
        assert (entries["150"].status, entries["150"].xero_id, entries["150"].content_hash) == ("synced", "x-150", "h")
        assert entries["230"].identity == records[-1][1] and entries["230"].content_hash == "h230"
        assert state.ids.mark_pending_many("invoice", []) == set()

    def test_a_refusal_fails_a_pending_entry(self, state: State):
        assert state.ids.mark_pending("invoice", 8, Identity("INV-8"), content_hash="h")
        assert state.ids.refused("invoice", 8)
        assert state.ids.get("invoice", 8).status == "failed"

    def test_set_status(self, state: State):
        state.ids.record("invoice", 9, xero_id="x", identity=Identity("i"), content_hash="h")
        state.ids.set_status("invoice", 9, "voided")
        assert state.ids.get("invoice", 9).status == "voided"


class TestLedger:
    def test_appends_in_order_with_ttl(self, state: State, clock):
        state.ledger.append("invoices", 7, "create", "ok", {"InvoiceNumber": "INV-7"})
        clock.advance(1)
        state.ledger.append("invoices", 7, "stamp", "ok", {"webServiceDate": "2026-11-26"})
        history = state.ledger.history("invoices", 7)
        assert [e.action for e in history] == ["create", "stamp"]
        item = state.table.table.scan()["Items"][0]
        assert int(item["ttl"]) > clock.now + 399 * 86400

    def test_never_stores_a_secret_value(self, state: State):
        from autoxero.redaction import register_secret

        register_secret("rt-super-secret-refresh-token")
        state.ledger.append("tokens", "xero", "refresh", "ok",
                            {"refresh_token": "rt-super-secret-refresh-token",
                             "note": "had rt-super-secret-refresh-token"})
        dump = str(state.table.table.scan()["Items"])
        assert "rt-super-secret-refresh-token" not in dump


class TestAttention:
    def test_raise_list_and_clear(self, state: State, clock):
        state.attention.raise_("invoices", 12, code="unmapped_account", message="Billing code X has no account",
                               fix="Map it in settings", label="INV-12")
        clock.advance(60)
        state.attention.raise_("invoices", 12, code="unmapped_account", message="Billing code X has no account",
                               fix="Map it in settings", label="INV-12")
        state.attention.raise_("contacts", 3, code="conflict", message="Two contacts", fix="Merge them")
        items = state.attention.list()
        assert {(i.flow, i.record_id) for i in items} == {("invoices", "12"), ("contacts", "3")}
        item = state.attention.get("invoices", 12)
        assert item.occurrences == 2 and item.first_seen < item.last_seen
        assert [i.record_id for i in state.attention.list("contacts")] == ["3"]
        assert state.attention.clear("invoices", 12) is True
        assert state.attention.clear("invoices", 12) is False
        assert state.attention.get("invoices", 12) is None


class TestLeases:
    def test_exactly_one_of_two_concurrent_holders_wins(self, state: State):
        barrier = threading.Barrier(2)
        results: dict[str, bool] = {}

        def contend(holder: str) -> None:
            barrier.wait()
            results[holder] = state.leases.acquire("token-refresh", holder, 30)

        threads = [threading.Thread(target=contend, args=(h,)) for h in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results.values()) == [False, True]
        winner = next(h for h, won in results.items() if won)
        assert lease_holder(state.table, "token-refresh") == winner

    def test_many_concurrent_contenders_never_share_a_lease(self, state: State):
        # DynamoDB evaluates a condition and writes as one operation; moto does not unless made to
        # (autoxero_cli/moto_fidelity.py). Without that, some of these rounds crown two holders.
        winners_per_round = []
        for round_number in range(40):
            barrier = threading.Barrier(8)
            won: list[str] = []

            def contend(holder: str, barrier: threading.Barrier = barrier, won: list[str] = won,
                        name: str = f"lease-{round_number}") -> None:
                barrier.wait()
                if state.leases.acquire(name, holder, 30):
                    won.append(holder)

            threads = [threading.Thread(target=contend, args=(f"h{i}",)) for i in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            winners_per_round.append(len(won))
        assert winners_per_round == [1] * 40

    def test_expired_lease_can_be_taken(self, state: State, clock):
        assert state.leases.acquire("run-invoices", "a", 30)
        assert not state.leases.acquire("run-invoices", "b", 30)
        clock.advance(31)
        assert state.leases.acquire("run-invoices", "b", 30)
        assert lease_holder(state.table, "run-invoices") == "b"

    def test_renew_and_release_only_by_holder(self, state: State, clock):
        assert state.leases.acquire("l", "a", 10)
        state.leases.renew("l", "a", 10)
        with pytest.raises(LeaseLost):
            state.leases.renew("l", "b", 10)
        assert state.leases.release("l", "b") is False
        assert state.leases.release("l", "a") is True
        assert lease_holder(state.table, "l") is None

    def test_renew_after_expiry_is_lost(self, state: State, clock):
        assert state.leases.acquire("l", "a", 10)
        clock.advance(11)
        with pytest.raises(LeaseLost):
            state.leases.renew("l", "a", 10)

    def test_held_context_manager(self, state: State):
        with state.leases.held("flow", 30) as holder:
            assert lease_holder(state.table, "flow") == holder
            with pytest.raises(LeaseBusy), state.leases.held("flow", 30, wait=0):
                pass
        assert lease_holder(state.table, "flow") is None


class TestSettingsStore:
    def test_defaults_until_saved_then_versioned(self, state: State):
        settings, version = state.settings.load()
        assert version == 0 and settings == SyncSettings()
        changed = SyncSettings.model_validate({"invoices": {"status": "AUTHORISED"}})
        assert state.settings.save(changed, 0) == 1
        loaded, version = state.settings.load()
        assert version == 1 and loaded.invoices.status == "AUTHORISED"
        assert state.settings.save(SyncSettings(), 1) == 2
        assert state.settings.version(1) == changed

    def test_concurrent_edit_is_refused(self, state: State):
        state.settings.save(SyncSettings(), 0)
        with pytest.raises(SettingsConflict):
            state.settings.save(SyncSettings(), 0)


class TestRuns:
    def test_records_last_run(self, state: State):
        state.runs.record("invoices", {"created": 3})
        assert state.runs.last("invoices")["created"] == 3
        assert state.runs.last("contacts") is None


def test_state_table_connect_uses_given_name(stack):
    table = StateTable.connect(stack.physical["StateTable"], region_name="us-east-1")
    assert table.name == "acme-test-StateTable"
