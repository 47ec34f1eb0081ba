"""The overview's Autotask card: the hourly quota as Autotask itself counted it (ThresholdInformation, kept by
the pacer in the state table), not an estimate from autoxero's own runs."""

from __future__ import annotations

from autoxero.autotask.models import ThresholdInformation
from autoxero.autotask.pacing import Pacer
from autoxero.console.overview import autotask_health
from autoxero.settings import SyncSettings


def test_the_quota_share_is_autotasks_own_count_at_the_last_reading(state, clock):
    settings = SyncSettings().autotask
    pacer = Pacer(state.autotask_quota, settings, clock=clock)
    others_and_us = ThresholdInformation(externalRequestThreshold=10_000, requestThresholdTimeframe=60,
                                         currentTimeframeRequestCount=3_400)
    pacer.take(lambda: others_and_us)  # the first request of a run reads the threshold
    # autoxero's own runs made 9,000 calls this hour by their own count: an estimate would say 90 %.
    runs = [{"flow": "invoices", "at": int(clock()), "autotask_calls": 9_000, "stopped": None}]

    health = autotask_health(runs, state.autotask_quota.last_reading(), float(settings.max_database_share),
                             settings.hourly_budget)

    assert health.quota is not None
    assert (health.quota.threshold, health.quota.database_count) == (10_000, 3_400)
    assert health.quota.database_share == 0.34
    assert health.quota.at == int(clock()) and health.quota.max_share == 0.5
    assert health.reached_at == int(clock()) and health.calls_last_run == 9_000


def test_no_reading_yet_says_so_instead_of_guessing(state):
    health = autotask_health([{"flow": "invoices", "at": 1, "autotask_calls": 40}], state.autotask_quota.last_reading(),
                             0.5, 2000)
    assert health.quota is None and health.calls_last_run == 40


def test_the_overview_page_shows_the_reading(state, clock):
    from autoxero.console import web
    from autoxero.console.app import PAGES
    from autoxero.console.auth import Person
    from autoxero.console.overview import Overview, XeroHealth

    state.autotask_quota.note_reading(10_000, 3_400, 1_200, clock())
    view = Overview(xero=XeroHealth(True, "Harbour IT", 1.0, 59.0, 20), runs=[], attention=[], skipped=0,
                    autotask=autotask_health([], state.autotask_quota.last_reading(), 0.5, 2000),
                    control=state.control.status())
    page = web.render("overview.html", view=view, person=Person("a@b.example", "s", ("viewer",)), pages=PAGES,
                      path="/console/", csrf="t", customer="Acme", notice=None)
    text = " ".join(page.split())
    assert "3,400 of 10,000 requests (34.0 %)" in text and "under 50 %" in text
    assert "own budget: 1,200 of 2,000 requests an hour set aside (60.0 %)" in text


def _overview_text(state, xero, control, attention=()) -> str:
    from autoxero.console import web
    from autoxero.console.app import PAGES
    from autoxero.console.auth import Person
    from autoxero.console.overview import Overview

    view = Overview(xero=xero, runs=[], attention=list(attention), skipped=0,
                    autotask=autotask_health([], state.autotask_quota.last_reading(), 0.5, 2000), control=control)
    page = web.render("overview.html", view=view, person=Person("a@b.example", "s", ("viewer",)), pages=PAGES,
                      path="/console/", csrf="t", customer="Acme", notice=None)
    return " ".join(page.split())


def test_the_overview_speaks_in_days_and_sentences(state, clock):
    """What a finance person reads: whole days, 'today', and the switch in words, not the CLI's status line."""
    from autoxero.console.overview import XeroHealth

    fresh = _overview_text(state, XeroHealth(True, "Harbour IT", 0.2, 59.8, 20), state.control.status())
    assert "last renewed today" in fresh and "(59 days left)" in fresh
    assert "A new stack starts paused" in fresh and "autoxero resume" not in fresh
    state.control.pause("bob@msp.example", "month-end close")
    older = _overview_text(state, XeroHealth(True, "Harbour IT", 12.7, 47.3, 20), state.control.status())
    assert "last renewed 12 days ago" in older and "(47 days left)" in older
    assert "Paused by bob@msp.example on " in older and ": month-end close" in older



def test_what_needs_attention_now_links_each_record_and_says_what_to_change(state, clock):
    from autoxero.console.overview import XeroHealth

    label = "Invoice INV-10020 (Pohutukawa Dental)"
    state.attention.raise_("invoices", 24020, code="no_contact", label=label,
                           message=f"{label}: the company has no Xero contact yet.", fix="Sync the company first.")
    text = _overview_text(state, XeroHealth(True, "Harbour IT", 1.0, 59.0, 20), state.control.status(),
                          state.attention.list())
    assert (f'<a href="/console/records/invoices/24020"><strong>{label}</strong></a>: The company has no Xero '
            'contact yet.') in text
    assert text.count("INV-10020") == 1 and "Sync the company first." in text


def test_an_attention_message_names_its_record_once_where_the_record_is_named_already(state):
    label = "Invoice INV-1 (A & B <Ltd>)"
    state.attention.raise_("invoices", 1, code="c", label=label, message=f"{label}: no contact.", fix="f")
    state.attention.raise_("invoices", 2, code="c", label="Invoice INV-2", message="Xero refused it.", fix="f")
    details = {i.record_id: i.detail for i in state.attention.list("invoices")}
    assert details == {"1": "No contact.", "2": "Xero refused it."}
