"""A settings document checked against what the live systems hold, before it may be pushed.

Every problem is found at once (never the first only), each with the document path it is about, so the
CLI can point at the YAML line, and a "did you mean" where a close name exists. Account types follow
Xero's Accounts API (Type: REVENUE, SALES, OTHERINCOME for income; EXPENSE, DIRECTCOSTS, OVERHEADS for
costs; docs/xero.md); a tax rate's CanApplyToRevenue / CanApplyToExpenses say where it may be used.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

from autoxero.mapping.reference import AutotaskReference
from autoxero.settings import SyncSettings, TrackingSource
from autoxero.xero import models as xm

Path = tuple[str | int, ...]
INCOME_TYPES = frozenset({"REVENUE", "SALES", "OTHERINCOME"})
COST_TYPES = frozenset({"EXPENSE", "DIRECTCOSTS", "OVERHEADS"})
ROUNDING_TYPES = INCOME_TYPES | COST_TYPES | {"CURRLIAB"}  # Xero's own chart has 860 Rounding as CURRLIAB


@dataclass(frozen=True, slots=True)
class SettingProblem:
    path: Path
    message: str

    @property
    def where(self) -> str:
        return ".".join(str(p) for p in self.path)


@dataclass
class LiveFacts:
    """What the two systems hold, as read for one check."""

    accounts: list[xm.Account]
    tax_rates: list[xm.TaxRate]
    tracking: list[xm.TrackingCategory]
    themes: list[str]
    item_codes: set[str]
    autotask: AutotaskReference
    company_udfs: list[str] = field(default_factory=list)
    po_statuses: list[str] = field(default_factory=list)


def did_you_mean(given: str, choices: Iterable[str], describe: dict[str, str] | None = None) -> str:
    close = difflib.get_close_matches(given, list(choices), n=1, cutoff=0.5)
    if not close:
        return ""
    extra = f" ({describe[close[0]]})" if describe and close[0] in describe else ""
    return f"; did you mean {close[0]!r}{extra}?"


class _Checker:
    def __init__(self, facts: LiveFacts) -> None:
        self.facts = facts
        self.problems: list[SettingProblem] = []
        self.accounts = {a.Code: a for a in facts.accounts if a.Code}
        self.names = {code: a.Name for code, a in self.accounts.items()}
        self.rates = {r.TaxType: r for r in facts.tax_rates}

    def add(self, path: Path, message: str) -> None:
        self.problems.append(SettingProblem(path, message))

    def account(self, path: Path, code: str, use: str, types: frozenset[str]) -> None:
        account = self.accounts.get(code)
        if account is None:
            self.add(path, f"account {code!r} does not exist in Xero{did_you_mean(code, self.accounts, self.names)}")
        elif (account.Status or "ACTIVE") != "ACTIVE":
            self.add(path, f"account {code} ({account.Name}) is {str(account.Status).lower()} in Xero; Xero refuses "
                           "documents that post to it")
        elif (account.Type or "") not in types:
            fitting = sorted(c for c, a in self.accounts.items() if a.Type in types and a.Status in (None, "ACTIVE"))
            self.add(path, f"account {code} ({account.Name}) is a {account.Type} account, not one for {use} "
                           f"({' / '.join(sorted(types))}); e.g. {', '.join(fitting[:5]) or 'none exists'}")

    def tax_type(self, path: Path, tax_type: str, revenue: bool) -> None:
        rate = self.rates.get(tax_type)
        if rate is None:
            self.add(path, f"tax type {tax_type!r} does not exist in Xero{did_you_mean(tax_type, self.rates)}")
        elif (rate.Status or "ACTIVE") != "ACTIVE":
            self.add(path, f"tax type {tax_type} ({rate.Name}) is {str(rate.Status).lower()} in Xero")
        elif revenue and rate.CanApplyToRevenue is False:
            self.add(path, f"tax type {tax_type} ({rate.Name}) cannot be used on sales in Xero")
        elif not revenue and rate.CanApplyToExpenses is False:
            self.add(path, f"tax type {tax_type} ({rate.Name}) cannot be used on purchases in Xero")

    def billing_code(self, path: Path, key: str) -> None:
        codes = self.facts.autotask.billing_codes
        names = {str(i): c.name for i, c in codes.items()}
        if not key.isdigit() or int(key) not in codes:
            self.add(path, f"Autotask has no billing code with id {key!r} (the keys are billing code ids)"
                           f"{did_you_mean(key, names, names)}")


def check_settings(settings: SyncSettings, facts: LiveFacts) -> list[SettingProblem]:
    c = _Checker(facts)
    inv, po = settings.invoices, settings.purchase_orders
    if inv.start_date is None:
        c.add(("invoices", "start_date"), "must be set: the first invoice date to send (e.g. the 1st of this month; "
                                          "older invoices are never sent)")
    c.account(("invoices", "default_account_code"), inv.default_account_code, "sales lines", INCOME_TYPES)
    c.account(("invoices", "rounding_account_code"), inv.rounding_account_code, "a rounding line", ROUNDING_TYPES)
    for key, code in inv.account_by_billing_code.items():
        c.billing_code(("invoices", "account_by_billing_code", key), key)
        c.account(("invoices", "account_by_billing_code", key), code, "sales lines", INCOME_TYPES)
    for key, code in inv.account_by_gl.items():
        c.account(("invoices", "account_by_gl", key), code, "sales lines", INCOME_TYPES)
    if not inv.create_missing_items:
        for key, item in inv.item_by_billing_code.items():
            c.billing_code(("invoices", "item_by_billing_code", key), key)
            if item not in facts.item_codes:
                c.add(("invoices", "item_by_billing_code", key),
                      f"item {item!r} does not exist in Xero{did_you_mean(item, facts.item_codes)} (or set "
                      "invoices.create_missing_items: true)")
    _check_tax(c, settings)
    _check_tracking(c, settings)
    themes = set(facts.themes)
    templates = {str(i): t.name for i, t in facts.autotask.templates.items()}
    for key, theme in inv.branding_by_template.items():
        if key not in templates:
            c.add(("invoices", "branding_by_template", key), f"Autotask has no invoice template with id {key!r}"
                                                              f"{did_you_mean(key, templates, templates)}")
        if theme not in themes:
            c.add(("invoices", "branding_by_template", key),
                  f"branding theme {theme!r} does not exist in Xero{did_you_mean(theme, themes)}")
    if po.enabled:
        c.account(("purchase_orders", "default_account_code"), po.default_account_code, "bills", COST_TYPES)
        c.account(("purchase_orders", "freight_account_code"), po.freight_account_code, "freight on bills",
                  COST_TYPES)
        for key, code in po.account_by_billing_code.items():
            c.billing_code(("purchase_orders", "account_by_billing_code", key), key)
            c.account(("purchase_orders", "account_by_billing_code", key), code, "bills", COST_TYPES)
        if po.tax_type:
            c.tax_type(("purchase_orders", "tax_type"), po.tax_type, revenue=False)
        statuses = {s.casefold(): s for s in facts.po_statuses}
        if statuses and po.trigger_status.casefold() not in statuses:
            c.add(("purchase_orders", "trigger_status"), f"Autotask has no purchase order status "
                  f"{po.trigger_status!r}{did_you_mean(po.trigger_status, facts.po_statuses)} (statuses: "
                  f"{', '.join(facts.po_statuses)})")
    udf = settings.contacts.billing_contact_udf
    if udf and udf not in facts.company_udfs:
        c.add(("contacts", "billing_contact_udf"), f"Autotask has no company field {udf!r}"
              f"{did_you_mean(udf, facts.company_udfs)}; without it every invoice goes to the primary contact "
              "(set it to null to say so)")
    return c.problems


def _check_tax(c: _Checker, settings: SyncSettings) -> None:
    tax = settings.invoices.tax
    regions = {r.name for r in c.facts.autotask.tax_regions.values()}
    categories = {t.name for t in c.facts.autotask.tax_categories.values()}
    for key, tax_type in tax.by_region_and_category.items():
        path: Path = ("invoices", "tax", "by_region_and_category", key)
        region, _, category = key.partition("|")
        if not category:
            c.add(path, f"{key!r} must be 'tax region|tax category' (e.g. "
                        f"'{next(iter(sorted(regions)), 'New Zealand')}|{next(iter(sorted(categories)), 'Standard')}')")
            continue
        if region not in regions:
            c.add(path, f"Autotask has no tax region {region!r}{did_you_mean(region, regions)}")
        if category not in categories:
            c.add(path, f"Autotask has no tax category {category!r}{did_you_mean(category, categories)}")
        c.tax_type(path, tax_type, revenue=True)
    if tax.exempt_tax_type != "NONE":
        c.tax_type(("invoices", "tax", "exempt_tax_type"), tax.exempt_tax_type, revenue=True)


def _check_tracking(c: _Checker, settings: SyncSettings) -> None:
    categories = {t.Name: t for t in c.facts.tracking}
    for index, rule in enumerate(settings.invoices.tracking):
        path: Path = ("invoices", "tracking", index)
        found = categories.get(rule.category)
        if found is None:
            c.add((*path, "category"), f"tracking category {rule.category!r} does not exist in Xero"
                                       f"{did_you_mean(rule.category, categories)}")
            continue
        if (found.Status or "ACTIVE") != "ACTIVE":
            c.add((*path, "category"), f"tracking category {rule.category!r} is {str(found.Status).lower()} in Xero")
        options = {o.Name for o in found.Options if (o.Status or "ACTIVE") == "ACTIVE"}
        for value, option in rule.options.items():
            if option not in options:
                c.add((*path, "options", value), f"tracking category {rule.category!r} has no active option "
                                                 f"{option!r}{did_you_mean(option, options)}")
        if rule.source is TrackingSource.UDF and rule.udf_name not in c.facts.company_udfs:
            c.add((*path, "udf_name"), f"Autotask has no company field {rule.udf_name!r}"
                                       f"{did_you_mean(rule.udf_name or '', c.facts.company_udfs)}")
