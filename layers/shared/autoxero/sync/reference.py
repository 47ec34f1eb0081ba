"""Reference data, read once per run from each system (and cached on the run)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autoxero.autotask import models as at
from autoxero.autotask.query import Query, everything
from autoxero.mapping.reference import AutotaskReference, XeroReference

if TYPE_CHECKING:
    from autoxero.autotask.client import AutotaskClient
    from autoxero.sync.run import FlowRun

PICKLISTS = (("Companies", "territoryID"), ("Companies", "classification"), ("Companies", "companyType"),
             ("PurchaseOrders", "status"))


def _all[E: at.Entity](client: AutotaskClient, entity: str, model: type[E]) -> dict[int, E]:
    return {record.id: record for record in client.query_models(entity, model, Query(everything()))}


def _picklists(client: AutotaskClient) -> dict[str, at.Picklist]:
    """The picklists mappings read labels from; a tenant without one of them simply has no labels for it."""
    from autoxero.autotask.errors import AutotaskValidationError

    found: dict[str, at.Picklist] = {}
    for entity, field in PICKLISTS:
        try:
            found[f"{entity}.{field}"] = client.picklist(entity, field)
        except AutotaskValidationError:
            continue
    return found


def xero_reference(run: FlowRun) -> XeroReference:
    cached = run.cache.get("xero_reference")
    if isinstance(cached, XeroReference):
        return cached
    xero = run.xero
    reference = XeroReference(accounts=xero.accounts, tax_rates=xero.tax_rates, items=xero.items,
                              tracking=xero.tracking_categories, themes=xero.branding_themes,
                              currencies=xero.currencies, organisation=xero.organisation)
    run.cache["xero_reference"] = reference
    return reference


def autotask_reference(run: FlowRun, *, for_invoices: bool = True) -> AutotaskReference:
    key = f"autotask_reference:{for_invoices}"
    cached = run.cache.get(key)
    if isinstance(cached, AutotaskReference):
        return cached
    client = run.autotask
    parts: dict[str, Any] = {
        "countries": _all(client, "Countries", at.Country),
        "currencies": _all(client, "Currencies", at.Currency),
        "picklists": _picklists(client),
    }
    if for_invoices:
        parts.update(billing_codes=_all(client, "BillingCodes", at.BillingCode),
                     products=_all(client, "Products", at.Product),
                     tax_categories=_all(client, "TaxCategories", at.TaxCategory),
                     tax_regions=_all(client, "TaxRegions", at.TaxRegion),
                     templates=_all(client, "InvoiceTemplates", at.InvoiceTemplate),
                     payment_terms=_all(client, "PaymentTerms", at.PaymentTerm))
    reference = AutotaskReference(**parts)
    run.cache[key] = reference
    return reference

