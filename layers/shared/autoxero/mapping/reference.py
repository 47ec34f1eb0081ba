"""Reference data a run reads once from each system and every mapping consults."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from autoxero.autotask import models as at
from autoxero.xero import models as xm


@dataclass(frozen=True)
class XeroReference:
    accounts: dict[str, xm.Account]  # active accounts by code
    tax_rates: dict[str, xm.TaxRate]  # active rates by TaxType
    item_codes: frozenset[str]
    tracking: dict[str, dict[str, tuple[str, str]]]  # category -> option -> (category id, option id)
    branding_themes: dict[str, str]  # theme name -> BrandingThemeID
    currencies: frozenset[str]
    base_currency: str | None = None

    @classmethod
    def build(cls, *, accounts: list[xm.Account], tax_rates: list[xm.TaxRate], items: list[xm.Item],
              tracking: list[xm.TrackingCategory], themes: list[xm.BrandingTheme], currencies: list[xm.Currency],
              organisation: xm.Organisation | None = None) -> XeroReference:
        return cls(
            accounts={a.Code: a for a in accounts if a.Code and (a.Status or "ACTIVE") == "ACTIVE"},
            tax_rates={t.TaxType: t for t in tax_rates if (t.Status or "ACTIVE") == "ACTIVE"},
            item_codes=frozenset(i.Code for i in items),
            tracking={c.Name: {o.Name: (c.TrackingCategoryID or "", o.TrackingOptionID or "")
                               for o in c.Options if (o.Status or "ACTIVE") == "ACTIVE"}
                      for c in tracking if (c.Status or "ACTIVE") == "ACTIVE"},
            branding_themes={t.Name: t.BrandingThemeID for t in themes},
            currencies=frozenset(c.Code for c in currencies),
            base_currency=organisation.BaseCurrency if organisation else None,
        )

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
