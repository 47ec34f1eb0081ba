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
from autoxero.mapping.common import Unmappable
from autoxero.mapping.contacts import choose_billing_contact
from autoxero.mapping.lines import tax_pair
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


@dataclass(frozen=True)
class RecentBilling:
    """Recent invoices with their lines, companies and contacts: what a proposal is checked against, so a
    suggestion never holds invoices nobody was warned about."""

    days: int
    invoices: list[at.Invoice] = field(default_factory=list)
    items: dict[int, list[at.BillingItem]] = field(default_factory=dict)       # by invoice id
    companies: dict[int, at.Company] = field(default_factory=dict)
    contacts: dict[int, list[at.Contact]] = field(default_factory=dict)        # by company id


def suggest(at_ref: AutotaskReference, taxes: list[at.Tax], xero: XeroReference,
            xero_rates: list[xm.TaxRate], today: dt.date | None = None, *,
            recent: RecentBilling | None = None, company_udfs: list[str] | None = None) -> Suggestion:
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
    _suggest_tax(out, invoices, _tax_map(at_ref, taxes, xero_rates), at_ref, recent)
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
    if company_udfs is not None:
        _suggest_billing_udf(out, company_udfs, recent)
    return out


def _tax_map(at_ref: AutotaskReference, taxes: list[at.Tax],
             xero_rates: list[xm.TaxRate]) -> dict[str, tuple[str, str]]:
    """(region|category) -> (the active Xero sales rate with the same percentage, why), for every Autotask tax."""
    by_rate: dict[Decimal, list[xm.TaxRate]] = {}
    for rate in xero_rates:
        if (rate.Status or "ACTIVE") == "ACTIVE" and "INPUT" not in rate.TaxType and "IMPORT" not in rate.TaxType:
            by_rate.setdefault(Decimal(rate.EffectiveRate or 0), []).append(rate)
    tax_map: dict[str, tuple[str, str]] = {}
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
        tax_map[f"{region.name}|{category.name}"] = (
            chosen.TaxType, f"tax {region.name} / {category.name} ({tax.taxRate}%) -> {chosen.TaxType} ({chosen.Name}, "
                            "the active Xero sales rate with the same percentage)")
    return tax_map


def _invoices_needing(recent: RecentBilling, ref: AutotaskReference) -> dict[str, set[int]]:
    """region|category -> the recent invoices with a line taxed under it (tax-exempt companies need none)."""
    needed: dict[str, set[int]] = {}
    for invoice in recent.invoices:
        company = recent.companies.get(invoice.companyID)
        if company is None or company.isTaxExempt:
            continue
        for item in recent.items.get(invoice.id, []):
            region, category = tax_pair(invoice, company, item, ref)
            needed.setdefault(f"{region}|{category}", set()).add(invoice.id)
    return needed


def _suggest_tax(out: Suggestion, invoices: dict[str, Any], tax_map: dict[str, tuple[str, str]],
                 ref: AutotaskReference,
                 recent: RecentBilling | None) -> None:
    """Propose invoices.tax.mode 'mapped' only when every pair recent invoices use maps: in that mode an
    unmapped pair holds its invoice, while Xero calculating tax never does."""
    keep = "so Xero keeps calculating tax from each account's default rate (invoices.tax.mode: xero_calculates)"
    if not tax_map:
        return
    if recent is None or not recent.invoices:
        days = recent.days if recent else 0
        out.reasons.append(f"tax: no map proposed: no invoices from the last {days} days to check it against, {keep}")
        return
    needed = _invoices_needing(recent, ref)
    unmapped = {key: ids for key, ids in needed.items() if key not in tax_map}
    if unmapped:
        held = set().union(*unmapped.values())
        pairs = "; ".join(f"'{_pair_text(key)}' on {len(ids)} invoice(s)"
                          for key, ids in sorted(unmapped.items(), key=lambda kv: -len(kv[1])))
        out.reasons.append(f"tax: no map proposed: mapping tax would hold {len(held)} of the {len(recent.invoices)} "
                           f"invoices from the last {recent.days} days, whose lines are taxed under pairs no Xero rate "
                           f"matches ({pairs}), {keep}")
        return
    invoices["tax"] = {"mode": "mapped", "by_region_and_category": {k: v[0] for k, v in tax_map.items()}}
    out.reasons.extend(why for _, why in tax_map.values())
    out.reasons.append(f"tax: mapped: every tax region and category used by the {len(recent.invoices)} invoices from "
                       f"the last {recent.days} days has a Xero rate ({len(needed)} pair(s)); none would be held")


def _pair_text(key: str) -> str:
    region, _, category = key.partition("|")
    return f"{region or '(no region)'} / {category or '(no tax category)'}"


_BILLING = {"billing", "bill", "invoice", "invoices", "invoicing", "accounts", "finance", "payable"}
_PERSON = {"contact", "email", "mail", "attention", "person", "attn"}


def _suggest_billing_udf(out: Suggestion, names: list[str], recent: RecentBilling | None) -> None:
    """contacts.billing_contact_udf: a Companies user-defined field Autotask really has, or none."""
    def words(name: str) -> set[str]:
        return set(_WORD.findall(name.casefold()))

    fits = sorted((n for n in names if words(n) & _BILLING and words(n) & _PERSON),
                  key=lambda n: (n.casefold() != "billing contact", n))
    contacts = out.patch.setdefault("contacts", {})
    if not fits:
        listed = ", ".join(f"'{n}'" for n in names[:6]) or "none at all"
        contacts["billing_contact_udf"] = None
        out.reasons.append(f"contacts.billing_contact_udf: none: no Companies user-defined field looks like a billing "
                           f"contact (Autotask reports {listed}); each Xero contact gets the Autotask contact flagged "
                           "as billing contact, else the primary contact")
        return
    name = fits[0]
    contacts["billing_contact_udf"] = name
    reason = f"contacts.billing_contact_udf '{name}': a Companies user-defined field Autotask reports"
    if recent is not None and recent.companies:
        filled = [c for c in recent.companies.values() if c.udf(name)]
        wrong = []
        for company in filled:
            try:
                choose_billing_contact(company, recent.contacts.get(company.id, []), name)
            except Unmappable:
                wrong.append(company)
        reason += f"; filled on {len(filled)} of the {len(recent.companies)} companies invoiced recently"
        if wrong:
            ids = {c.id for c in wrong}
            held = sum(1 for i in recent.invoices if i.companyID in ids)
            reason += (f". WARNING: on {len(wrong)} ({', '.join(c.companyName for c in wrong[:5])}) it names no active "
                       f"contact, so accepting it holds those companies and {held} of their recent invoice(s) until "
                       "the field is corrected in Autotask")
    out.reasons.append(reason)


def merge(document: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge a suggestion into a settings document (the suggestion wins where both say something)."""
    merged = dict(document)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged
