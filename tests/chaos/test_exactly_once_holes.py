"""The holes issue 13 names in the exactly-once path, each reproduced deterministically on the chaos harness and
judged by the simulators' own state (Xero's documents, Autotask's stamps), never through the id map alone.

Each failed on the code before its fix (see the issue-13 report for the runs).
"""

from __future__ import annotations

import pytest

from autoxero.state.idmap import IdMap
from autoxero.sync.contacts import run_contacts
from autoxero.sync.invoices import run_invoices
from bench import chaos
from sandbox.fixtures.builder import STANDARD, SUPPORT, Tenant

NUMBERING = ["autotask", "xero"]


def harness_for(numbering: str) -> chaos.Harness:
    data = Tenant().company(1, "Renumbered Ltd").invoice(10, 1, "R-1", [(1, 100, STANDARD, SUPPORT)])
    return chaos.Harness(data, {"invoices": {"status": "AUTHORISED", "numbering": numbering}}, 0)


def die(*args, **kwargs):
    raise chaos.CrashInjected("the Lambda died here")


def documents_for(h: chaos.Harness, autotask_number_then: str) -> list[dict]:
    """Live Xero invoices carrying the Autotask invoice's identity as it was when first sent."""
    return [i for i in h.sandbox.xero.state("Invoices") if i["Type"] == "ACCREC"
            and i["Status"] not in ("DELETED", "VOIDED")
            and autotask_number_then in (i.get("InvoiceNumber"), i.get("Reference"))]


def stamped(h: chaos.Harness) -> bool:
    return bool(h.sandbox.autotask.record("Invoices", 10).get("webServiceDate"))


@pytest.mark.parametrize("numbering", NUMBERING)
def test_hole_1_an_invoice_renumbered_after_an_interrupted_create_is_not_created_again(numbering):
    h = harness_for(numbering)
    try:
        h.run("contacts", run_contacts)
        original = IdMap.record_many
        IdMap.record_many = die  # Xero accepted R-1; the run dies before the id map says so
        try:
            with pytest.raises(chaos.CrashInjected):
                h.run("invoices", run_invoices)
        finally:
            IdMap.record_many = original
        h.rt = h.container()
        h.sandbox.autotask.touch("Invoices", 10, {"invoiceNumber": "R-1A"})  # edited before the rerun
        h.run("invoices", run_invoices)
        h.run("invoices", run_invoices)
        ours = [i for i in h.sandbox.xero.state("Invoices") if i["Type"] == "ACCREC"
                and i["Status"] not in ("DELETED", "VOIDED")]
        assert len(ours) == 1, [(i.get("InvoiceNumber"), i.get("Reference")) for i in ours]
        assert stamped(h)
        assert h.rt.state.attention.list("invoices") == []
    finally:
        h.close()


@pytest.mark.parametrize("numbering", NUMBERING)
def test_hole_2_a_run_that_outlived_its_lease_neither_duplicates_nor_undoes_the_run_that_took_over(numbering):
    """Run A stalls after reading the id map for longer than its lease; the schedule starts run B, which sends and
    stamps the invoice. When A wakes up it must not send again, nor mark B's synced entry failed."""
    h = harness_for(numbering)
    try:
        h.run("contacts", run_contacts)
        original = IdMap.get_many
        stalled = []

        def get_many_then_stall(self, kind, ids):
            entries = original(self, kind, ids)
            if kind == "invoice" and not stalled:
                stalled.append(True)
                # A stalls past its lease (16 minutes; nobody renews it meanwhile) ...
                h.clock.advance(1000)
                b = h.container()  # ... and the next scheduled run starts in another container
                chaos.execute_run(b, chaos.build_run(b, "invoices", None, False), run_invoices)
                assert stamped(h)
                # Xero keeps an Idempotency-Key for 6 minutes: by the time A sends, the key that B's identical
                # batch carried is forgotten.
                h.clock.advance(400)
            return entries

        IdMap.get_many = get_many_then_stall
        try:
            h.run("invoices", run_invoices)  # A
        finally:
            IdMap.get_many = original
        h.run("invoices", run_invoices)  # the next scheduled run after both
        assert len(documents_for(h, "R-1")) == 1
        assert stamped(h)
        assert h.rt.state.ids.get("invoice", 10).status == "synced"
        assert h.rt.state.attention.list("invoices") == []
    finally:
        h.close()


def test_hole_3_a_death_during_token_refresh_is_recovered_within_the_grace_whatever_the_schedule(monkeypatch):
    """The run dies after Xero rotated the refresh token and before the new one was stored (PutSecretValue never
    happened), without releasing the refresh lease (a dead Lambda runs no `finally`). The next sync run comes a
    day later (SyncRateMinutes up to 1440): the connection must still work, with no invalid_grant."""
    from autoxero.secrets import SecretStore
    from autoxero.state.leases import Leases
    from autoxero.sync.entry import handle
    from autoxero.sync.payments import run_payments
    from autoxero.xero.tokens import REFRESH_LEASE

    h = chaos.Harness(Tenant(), chaos.SETTINGS, 0)
    try:
        sim = h.sandbox.xero
        stored = h.rt.secrets.read(h.rt.config.xero_secret_id, fresh=True)["token_set"]
        h.clock.advance(float(stored["expires_at"]) - 60 - h.clock.time())  # inside the refresh margin
        with monkeypatch.context() as patch:
            patch.setattr(SecretStore, "write", die)
            release = Leases.release
            patch.setattr(Leases, "release",  # died: no `finally` releases the refresh lease; it must expire
                          lambda self, name, holder: name != REFRESH_LEASE and release(self, name, holder))
            with pytest.raises(chaos.CrashInjected):
                h.run("payments", run_payments)
        assert sim.token_refreshes == 1  # Xero rotated the token; its answer was lost
        for _ in range(3):  # the token watch, every 10 minutes, in fresh containers
            h.clock.advance(600)
            handle("payments", {"flow": "payments", "token_watch": True}, None, h.container())
        h.clock.advance(86_400)  # the next scheduled run, a day later
        h.rt = h.container()
        invalid_before = sim.invalid_grants
        h.run("payments", run_payments)
        assert sim.invalid_grants == invalid_before == 0
    finally:
        h.close()
