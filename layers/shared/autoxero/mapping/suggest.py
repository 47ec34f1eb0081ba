"""Proposed mappings from both systems' reference data, for a person to review and accept.

Nothing here is applied by itself: `autoxero settings suggest` prints the proposal (and why each line
was proposed) and `settings push` saves what the person accepts.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from autoxero.autotask import models as at
from autoxero.mapping.reference import AutotaskReference, XeroReference
from autoxero.xero import models as xm

_WORD = re.compile(r"[a-z0-9]+")
_NOISE = {"invoice", "ltd", "the", "and", "of", "template", "sales", "revenue", "income"}


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.casefold()) if w not in _NOISE}


def _best(name: str, candidates: dict[str, str]) -> str | None:
    """The candidate (label -> value) sharing the most words with `name`; None when nothing is shared."""
    wanted = _words(name)
    scored = sorted(((len(wanted & _words(label)), label) for label in candidates), reverse=True)
    return candidates[scored[0][1]] if scored and scored[0][0] > 0 else None


@dataclass
class Suggestion:
    patch: dict[str, Any] = field(default_factory=dict)  # a partial settings document
    reasons: list[str] = field(default_factory=list)


def suggest(at_ref: AutotaskReference, taxes: list[at.Tax], xero: XeroReference,
            xero_rates: list[xm.TaxRate], today: dt.date | None = None) -> Suggestion:
    out = Suggestion()
    invoices: dict[str, Any] = {}
    if today is not None:
        first = today.replace(day=1)
        invoices["start_date"] = first.isoformat()
        out.reasons.append(f"invoices.start_date {first.isoformat()}: only invoices dated from the 1st of this month "
                           "are sent; choose an earlier date to send older ones (they must not be in Xero already)")
    accounts: dict[str, str] = {}
    revenue = {a.Name: code for code, a in xero.accounts.items()
               if (a.Type or "") in ("REVENUE", "SALES", "OTHERINCOME")}
    for code in at_ref.billing_codes.values():
        if code.externalNumber and code.externalNumber in xero.accounts:
            continue
        match = _best(code.name, revenue)
        if match:
            accounts[str(code.id)] = match
            out.reasons.append(f"billing code '{code.name}' -> account {match} ({xero.accounts[match].Name}), by name")
    if accounts:
        invoices["account_by_billing_code"] = accounts
    by_rate: dict[Decimal, list[xm.TaxRate]] = {}
    for rate in xero_rates:
        if (rate.Status or "ACTIVE") == "ACTIVE" and "INPUT" not in rate.TaxType and "IMPORT" not in rate.TaxType:
            by_rate.setdefault(Decimal(rate.EffectiveRate or 0), []).append(rate)
    tax_map: dict[str, str] = {}
    for tax in taxes:
        region = at_ref.tax_regions.get(tax.taxRegionID)
        category = at_ref.tax_categories.get(tax.taxCategoryID)
        options = by_rate.get(Decimal(tax.taxRate), [])
        if not region or not category or not options:
            continue
        if tax.taxRate == 0:
            zero = [o for o in options if "ZERO" in o.TaxType]
            overseas = any(w in region.name.casefold() for w in ("overseas", "export", "international"))
            options = (zero if overseas and zero else [o for o in options if o not in zero] or options)
        chosen = options[0]
        tax_map[f"{region.name}|{category.name}"] = chosen.TaxType
        out.reasons.append(f"tax {region.name} / {category.name} ({tax.taxRate}%) -> {chosen.TaxType} ({chosen.Name})")
    if tax_map:
        invoices["tax"] = {"mode": "mapped", "by_region_and_category": tax_map}
    themes: dict[str, str] = {}
    for template in at_ref.templates.values():
        match = _best(template.name, {name: name for name in xero.branding_themes})
        if match:
            themes[str(template.id)] = match
            out.reasons.append(f"invoice template '{template.name}' -> branding theme '{match}'")
    if themes:
        invoices["branding_by_template"] = themes
    territory = at_ref.picklists.get("Companies.territoryID")
    if territory:
        for tracking_name, choices in xero.tracking.items():
            if territory.labels and set(territory.labels.values()) <= set(choices):
                invoices["tracking"] = [{"category": tracking_name, "source": "territory"}]
                out.reasons.append(f"company territory -> tracking category '{tracking_name}' "
                                   "(every territory is an option)")
                break
    if invoices:
        out.patch["invoices"] = invoices
    return out


def merge(document: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge a suggestion into a settings document (the suggestion wins where both say something)."""
    merged = dict(document)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged
