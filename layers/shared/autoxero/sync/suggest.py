"""Reads what `settings suggest` needs from both systems."""

from __future__ import annotations

from autoxero.autotask import models as at
from autoxero.autotask.query import Query, everything
from autoxero.mapping.suggest import Suggestion, suggest
from autoxero.sync.reference import autotask_reference, xero_reference
from autoxero.sync.run import FlowRun


def suggest_settings(run: FlowRun) -> Suggestion:
    taxes = list(run.autotask.query_models("Taxes", at.Tax, Query(everything())))
    return suggest(autotask_reference(run), taxes, xero_reference(run), run.xero.tax_rates(), run.now().date())
