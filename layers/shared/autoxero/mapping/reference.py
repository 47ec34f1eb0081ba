"""Reference data a run reads once from each system and every mapping consults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from autoxero.autotask import models as at
from autoxero.xero import models as xm

Source = Callable[[], list[Any]] | list[Any]


def _load(source: Source) -> list[Any]:
    return source() if callable(source) else list(source)


class XeroReference:
    """Xero's reference data, each piece read only when a mapping first needs it, then kept for the run.

    A run that maps no items, no tracking and no foreign currency never spends the calls on them: each
    costs one of the organisation's 60 calls a minute.
    """

    def __init__(self, *, accounts: Source, tax_rates: Source, items: Source, tracking: Source, themes: Source,
                 currencies: Source, organisation: Callable[[], xm.Organisation | None] | xm.Organisation | None = None
                 ) -> None:
        self._sources: dict[str, Source] = {"accounts": accounts, "tax_rates": tax_rates, "items": items,
                                            "tracking": tracking, "themes": themes, "currencies": currencies}
        self._organisation = organisation

    @cached_property
    def accounts(self) -> dict[str, xm.Account]:
        """Active accounts by code."""
        return {a.Code: a for a in _load(self._sources["accounts"]) if a.Code and (a.Status or "ACTIVE") == "ACTIVE"}

    @cached_property
    def tax_rates(self) -> dict[str, xm.TaxRate]:
        """Active rates by TaxType."""
        return {t.TaxType: t for t in _load(self._sources["tax_rates"]) if (t.Status or "ACTIVE") == "ACTIVE"}

    @cached_property
    def item_codes(self) -> frozenset[str]:
        return frozenset(self.item_names)

    @cached_property
    def item_names(self) -> dict[str, str]:
        """Item code -> its name (the code again when it has none)."""
        return {i.Code: i.Name or i.Code for i in _load(self._sources["items"])}

    @cached_property
    def tracking(self) -> dict[str, dict[str, tuple[str, str]]]:
        """Active category -> active option -> (category id, option id)."""
        return {c.Name: {o.Name: (c.TrackingCategoryID or "", o.TrackingOptionID or "")
                         for o in c.Options if (o.Status or "ACTIVE") == "ACTIVE"}
                for c in _load(self._sources["tracking"]) if (c.Status or "ACTIVE") == "ACTIVE"}

    @cached_property
    def branding_themes(self) -> dict[str, str]:
        """Theme name -> BrandingThemeID."""
        return {t.Name: t.BrandingThemeID for t in _load(self._sources["themes"])}

    @cached_property
    def currencies(self) -> frozenset[str]:
        return frozenset(c.Code for c in _load(self._sources["currencies"]))

    @cached_property
    def base_currency(self) -> str | None:
        organisation = self._organisation() if callable(self._organisation) else self._organisation
        return organisation.BaseCurrency if organisation else None

    def with_items(self, codes: set[str]) -> XeroReference:
        """Note items created during the run."""
        self.__dict__["item_codes"] = self.item_codes | codes
        return self

    def rate(self, tax_type: str | None, account_code: str | None) -> Decimal:
        """The percentage Xero will apply: the line's TaxType, else the account's default."""
        chosen = tax_type or (self.accounts[account_code].TaxType if account_code in self.accounts else None)
        if not chosen or chosen not in self.tax_rates:
            return Decimal(0)
        return self.tax_rates[chosen].EffectiveRate or self.tax_rates[chosen].DisplayTaxRate or Decimal(0)


@dataclass(frozen=True)
class AutotaskReference:
    billing_codes: dict[int, at.BillingCode] = field(default_factory=dict)
    products: dict[int, at.Product] = field(default_factory=dict)
    services: dict[int, at.Service] = field(default_factory=dict)
    service_bundles: dict[int, at.Service] = field(default_factory=dict)
    tax_categories: dict[int, at.TaxCategory] = field(default_factory=dict)
    tax_regions: dict[int, at.TaxRegion] = field(default_factory=dict)
    templates: dict[int, at.InvoiceTemplate] = field(default_factory=dict)
    payment_terms: dict[int, at.PaymentTerm] = field(default_factory=dict)
    countries: dict[int, at.Country] = field(default_factory=dict)
    currencies: dict[int, at.Currency] = field(default_factory=dict)
    picklists: dict[str, at.Picklist] = field(default_factory=dict)  # "Companies.territoryID" -> picklist

    def label(self, entity_field: str, value: object) -> str | None:
        picklist = self.picklists.get(entity_field)
        return picklist.label(value) if picklist else None
