"""Reads what checking a settings document needs from both live systems (about ten calls each)."""

from __future__ import annotations

from autoxero.mapping.settings_check import LiveFacts, SettingProblem, check_settings
from autoxero.settings import SyncSettings
from autoxero.sync.reference import autotask_reference
from autoxero.sync.run import FlowRun


def live_facts(run: FlowRun) -> LiveFacts:
    xero = run.xero
    reference = autotask_reference(run, fresh=True)
    statuses = reference.picklists.get("PurchaseOrders.status")
    return LiveFacts(accounts=xero.accounts(), tax_rates=xero.tax_rates(), tracking=xero.tracking_categories(),
                     themes=[t.Name for t in xero.branding_themes()], item_codes={i.Code for i in xero.items()},
                     autotask=reference, company_udfs=run.autotask.udf_names("Companies"),
                     po_statuses=list(statuses.labels.values()) if statuses else [])


def check_against_live(run: FlowRun, settings: SyncSettings) -> list[SettingProblem]:
    return check_settings(settings, live_facts(run))
