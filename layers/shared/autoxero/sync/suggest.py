"""Reads what `settings suggest` needs from both systems, recent billing included (a proposal is checked
against it, so accepting one never holds invoices nobody was told about)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from itertools import islice

from autoxero.autotask import models as at
from autoxero.autotask.query import Query, everything, gte
from autoxero.mapping.suggest import RecentBilling, Suggestion, suggest
from autoxero.sync.reference import autotask_reference, xero_reference
from autoxero.sync.run import FlowRun

RECENT_DAYS = 90
RECENT_MAX = 500  # invoices read to check a proposal: enough to see every tax pair and UDF habit in use


def recent_billing(run: FlowRun, days: int = RECENT_DAYS) -> RecentBilling:
    since = dt.datetime.combine(run.now().date() - dt.timedelta(days=days), dt.time(), dt.UTC)
    invoices = list(islice(run.autotask.query_models(
        "Invoices", at.Invoice, Query([gte("invoiceDateTime", since)])), RECENT_MAX))
    if not invoices:
        return RecentBilling(days)
    items: dict[int, list[at.BillingItem]] = defaultdict(list)
    for item in run.autotask.query_in("BillingItems", at.BillingItem, "invoiceID", [i.id for i in invoices]):
        if item.invoiceID is not None:
            items[item.invoiceID].append(item)
    company_ids = sorted({i.companyID for i in invoices})
    companies = {c.id: c for c in run.autotask.query_in("Companies", at.Company, "id", company_ids)}
    contacts: dict[int, list[at.Contact]] = defaultdict(list)
    for contact in run.autotask.query_in("Contacts", at.Contact, "companyID", company_ids):
        contacts[contact.companyID].append(contact)
    return RecentBilling(days, invoices, dict(items), companies, dict(contacts))


def suggest_settings(run: FlowRun) -> Suggestion:
    taxes = list(run.autotask.query_models("Taxes", at.Tax, Query(everything())))
    return suggest(autotask_reference(run), taxes, xero_reference(run), run.xero.tax_rates(), run.now().date(),
                   recent=recent_billing(run), company_udfs=run.autotask.udf_names("Companies"))
