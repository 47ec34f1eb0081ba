"""Reference data: Organisation, Accounts, TaxRates, Currencies, Items, TrackingCategories, BrandingThemes.

Loaded from the fixture's "xero" section (in Xero's own field names) and rendered back in wire format.
Items can also be written through the API; the rest is read-only through the API (change it in the fixture).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from .org import Org, Record, ValidationFailed, WriteContext, new_id, norm, stable_id
from .wire import as_decimal, ms_datetime, parse_stored_instant, quantize

ACCOUNT_CLASS = {
    "BANK": "ASSET", "CURRENT": "ASSET", "FIXED": "ASSET", "INVENTORY": "ASSET", "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET", "CURRLIAB": "LIABILITY", "LIABILITY": "LIABILITY", "TERMLIAB": "LIABILITY",
    "PAYG": "LIABILITY", "EQUITY": "EQUITY", "DEPRECIATN": "EXPENSE", "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE", "OVERHEADS": "EXPENSE", "OTHERINCOME": "REVENUE", "REVENUE": "REVENUE", "SALES": "REVENUE",
}
CLASS_FLAG = {"ASSET": "CanApplyToAssets", "EQUITY": "CanApplyToEquity", "EXPENSE": "CanApplyToExpenses",
              "LIABILITY": "CanApplyToLiabilities", "REVENUE": "CanApplyToRevenue"}

ACCOUNT_FIELDS = {"AccountID": "Guid", "Code": "String", "Name": "String", "Type": "String", "Status": "String",
                  "Class": "String", "TaxType": "String", "SystemAccount": "String", "Description": "String",
                  "EnablePaymentsToAccount": "Boolean", "ShowInExpenseClaims": "Boolean",
                  "BankAccountNumber": "String", "BankAccountType": "String", "CurrencyCode": "String",
                  "ReportingCode": "String", "UpdatedDateUTC": "DateTime", "HasAttachments": "Boolean"}
TAX_RATE_FIELDS = {"Name": "String", "TaxType": "String", "Status": "String", "ReportTaxType": "String",
                   "EffectiveRate": "Decimal", "DisplayTaxRate": "Decimal", "CanApplyToAssets": "Boolean",
                   "CanApplyToEquity": "Boolean", "CanApplyToExpenses": "Boolean",
                   "CanApplyToLiabilities": "Boolean", "CanApplyToRevenue": "Boolean"}
CURRENCY_FIELDS = {"Code": "String", "Description": "String"}
_DETAILS = {"UnitPrice": "Decimal", "AccountCode": "String", "TaxType": "String", "COGSAccountCode": "String"}
ITEM_FIELDS = {"ItemID": "Guid", "Code": "String", "Name": "String", "Description": "String",
               "PurchaseDescription": "String", "IsSold": "Boolean", "IsPurchased": "Boolean",
               "IsTrackedAsInventory": "Boolean", "UpdatedDateUTC": "DateTime",
               "SalesDetails": _DETAILS, "PurchaseDetails": _DETAILS}
TRACKING_FIELDS = {"TrackingCategoryID": "Guid", "Name": "String", "Status": "String"}
BRANDING_FIELDS = {"BrandingThemeID": "Guid", "Name": "String", "SortOrder": "Int32", "Type": "String",
                   "CreatedDateUTC": "DateTime"}


def _clean(record: Record) -> Record:
    return {k: v for k, v in record.items() if v is not None and not k.startswith("_")}


def _instant(raw: dict[str, Any], key: str, default: datetime) -> datetime:
    value = raw.get(key)
    return parse_stored_instant(value) if value else default


def _dec(value: Any, default: Decimal | None = None) -> Decimal | None:
    number = as_decimal(value)
    return number if number is not None else default


# ---------------------------------------------------------------------------------------------- loading


def load_organisation(org: Org, raw: dict[str, Any] | list[Any] | None, now: datetime) -> None:
    data = dict((raw[0] if isinstance(raw, list) and raw else raw) or {})
    base = {
        "OrganisationID": stable_id("organisation", org.tenant_id), "APIKey": "SANDBOXAPIKEY0000000000000000000",
        "Name": org.tenant_name, "LegalName": org.tenant_name, "PaysTax": True, "Version": "NZ",
        "OrganisationType": "COMPANY", "BaseCurrency": "NZD", "CountryCode": "NZ", "IsDemoCompany": False,
        "OrganisationStatus": "ACTIVE", "FinancialYearEndDay": 31, "FinancialYearEndMonth": 3,
        "SalesTaxBasis": "INVOICE", "SalesTaxPeriod": "TWOMONTHS", "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Inclusive", "Timezone": "NEWZEALANDSTANDARDTIME",
        "OrganisationEntityType": "COMPANY", "ShortCode": "!sANDb", "Class": "PREMIUM", "Edition": "BUSINESS",
        "Addresses": [], "Phones": [], "ExternalLinks": [], "PaymentTerms": {},
    }
    base.update(data)
    base["CreatedDateUTC"] = _instant(data, "CreatedDateUTC", now)
    org.organisation = base


def load_account(org: Org, raw: dict[str, Any], now: datetime) -> None:
    account_type = str(raw.get("Type", "REVENUE")).upper()
    record: Record = {
        "AccountID": str(raw.get("AccountID") or stable_id(org.tenant_id, "account", str(raw.get("Code")))).lower(),
        "Code": raw.get("Code"), "Name": raw.get("Name", ""), "Type": account_type,
        "Status": raw.get("Status", "ACTIVE"), "Description": raw.get("Description"),
        "TaxType": raw.get("TaxType"), "Class": raw.get("Class") or ACCOUNT_CLASS.get(account_type, "EXPENSE"),
        "SystemAccount": raw.get("SystemAccount"),
        "EnablePaymentsToAccount": bool(raw.get("EnablePaymentsToAccount", account_type == "BANK")),
        "ShowInExpenseClaims": bool(raw.get("ShowInExpenseClaims", False)),
        "BankAccountNumber": raw.get("BankAccountNumber"), "BankAccountType": raw.get("BankAccountType"),
        "CurrencyCode": raw.get("CurrencyCode"), "ReportingCode": raw.get("ReportingCode"),
        "ReportingCodeName": raw.get("ReportingCodeName"), "HasAttachments": False,
        "AddToWatchlist": bool(raw.get("AddToWatchlist", False)),
        "UpdatedDateUTC": _instant(raw, "UpdatedDateUTC", now),
    }
    org.accounts[record["AccountID"]] = record


def load_tax_rate(org: Org, raw: dict[str, Any], now: datetime) -> None:
    components = []
    for comp in raw.get("TaxComponents") or []:
        components.append({"Name": comp.get("Name", raw.get("Name", "")), "Rate": _dec(comp.get("Rate"), Decimal(0)),
                           "IsCompound": bool(comp.get("IsCompound", False)),
                           "IsNonRecoverable": bool(comp.get("IsNonRecoverable", False))})
    effective = _dec(raw.get("EffectiveRate"))
    if effective is None:
        effective = sum((c["Rate"] for c in components), Decimal(0))
    record: Record = {
        "Name": raw.get("Name", raw.get("TaxType")), "TaxType": raw["TaxType"], "TaxComponents": components,
        "Status": raw.get("Status", "ACTIVE"), "ReportTaxType": raw.get("ReportTaxType"),
        "CanApplyToAssets": bool(raw.get("CanApplyToAssets", True)),
        "CanApplyToEquity": bool(raw.get("CanApplyToEquity", True)),
        "CanApplyToExpenses": bool(raw.get("CanApplyToExpenses", True)),
        "CanApplyToLiabilities": bool(raw.get("CanApplyToLiabilities", True)),
        "CanApplyToRevenue": bool(raw.get("CanApplyToRevenue", True)),
        "DisplayTaxRate": quantize(_dec(raw.get("DisplayTaxRate"), effective) or Decimal(0), 4),
        "EffectiveRate": quantize(effective, 4),
    }
    org.tax_rates[record["TaxType"]] = record


def load_currency(org: Org, raw: dict[str, Any], now: datetime) -> None:
    code = str(raw["Code"]).upper()
    org.currencies[code] = {"Code": code, "Description": raw.get("Description", "")}


def _details(raw: dict[str, Any] | None) -> Record | None:
    if not raw:
        return None
    out: Record = {}
    price = _dec(raw.get("UnitPrice"))
    if price is not None:
        out["UnitPrice"] = quantize(price, 4)
    for key in ("AccountCode", "COGSAccountCode", "TaxType"):
        if raw.get(key):
            out[key] = raw[key]
    return out


def load_item(org: Org, raw: dict[str, Any], now: datetime) -> None:
    record: Record = {
        "ItemID": str(raw.get("ItemID") or stable_id(org.tenant_id, "item", str(raw.get("Code")))).lower(),
        "Code": raw["Code"], "Name": raw.get("Name", raw["Code"]), "Description": raw.get("Description"),
        "PurchaseDescription": raw.get("PurchaseDescription"),
        "PurchaseDetails": _details(raw.get("PurchaseDetails")) or {},
        "SalesDetails": _details(raw.get("SalesDetails")) or {},
        "IsTrackedAsInventory": bool(raw.get("IsTrackedAsInventory", False)),
        "InventoryAssetAccountCode": raw.get("InventoryAssetAccountCode"),
        "IsSold": bool(raw.get("IsSold", True)), "IsPurchased": bool(raw.get("IsPurchased", True)),
        "UpdatedDateUTC": _instant(raw, "UpdatedDateUTC", now),
    }
    org.items[record["ItemID"]] = record


def load_tracking_category(org: Org, raw: dict[str, Any], now: datetime) -> None:
    category_id = str(raw.get("TrackingCategoryID") or stable_id(org.tenant_id, "tracking", raw["Name"])).lower()
    options = [{"TrackingOptionID": str(o.get("TrackingOptionID")
                                        or stable_id(category_id, "option", o["Name"])).lower(),
                "Name": o["Name"], "Status": o.get("Status", "ACTIVE")}
               for o in raw.get("Options") or []]
    org.tracking[category_id] = {"TrackingCategoryID": category_id, "Name": raw["Name"],
                                 "Status": raw.get("Status", "ACTIVE"), "Options": options}


def load_branding_theme(org: Org, raw: dict[str, Any], now: datetime) -> None:
    theme_id = str(raw.get("BrandingThemeID") or stable_id(org.tenant_id, "branding", raw["Name"])).lower()
    org.branding[theme_id] = {"BrandingThemeID": theme_id, "Name": raw["Name"], "LogoUrl": raw.get("LogoUrl"),
                              "Type": "INVOICE", "SortOrder": int(raw.get("SortOrder", len(org.branding))),
                              "CreatedDateUTC": _instant(raw, "CreatedDateUTC", now)}


# ---------------------------------------------------------------------------------------------- rendering


def render_organisation(org: Org) -> Record:
    out = _clean(org.organisation)
    out["CreatedDateUTC"] = ms_datetime(org.organisation["CreatedDateUTC"])
    return out


def render_account(record: Record) -> Record:
    out = _clean(record)
    out["UpdatedDateUTC"] = ms_datetime(record["UpdatedDateUTC"])
    return out


def render_tax_rate(record: Record) -> Record:
    return _clean(record)


def render_currency(record: Record) -> Record:
    return dict(record)


def render_item(record: Record, unitdp: int = 2) -> Record:
    out = _clean(record)
    for key in ("SalesDetails", "PurchaseDetails"):
        details = dict(record.get(key) or {})
        if "UnitPrice" in details:
            details["UnitPrice"] = quantize(details["UnitPrice"], 4 if unitdp == 4 else 2)
        out[key] = details
    out["UpdatedDateUTC"] = ms_datetime(record["UpdatedDateUTC"])
    return out


def render_tracking_category(record: Record, include_archived: bool = False) -> Record:
    out = _clean(record)
    out["Options"] = [dict(o) for o in record["Options"] if include_archived or o["Status"] == "ACTIVE"]
    return out


def render_branding_theme(record: Record) -> Record:
    out = _clean(record)
    out["CreatedDateUTC"] = ms_datetime(record["CreatedDateUTC"])
    return out


# ---------------------------------------------------------------------------------------------- item writes


def _check_details(org: Org, details: dict[str, Any] | None, errors: list[str]) -> None:
    if not details:
        return
    code = details.get("AccountCode")
    if code is not None and org.account_by_code(code) is None:
        errors.append(f"Account code '{code}' is not a valid code for this document.")
    tax_type = details.get("TaxType")
    if tax_type is not None and org.tax_rate(tax_type) is None:
        errors.append(f"The TaxType code {tax_type} does not exist or cannot be used for this type of transaction.")


def upsert_item(ctx: WriteContext, payload: dict[str, Any], *, existing: Record | None,
                allow_update_by_code: bool) -> tuple[Record, bool]:
    org = ctx.org
    if existing is None and payload.get("ItemID"):
        existing = org.items.get(payload["ItemID"])
    if existing is None:
        by_code = org.item_by_code(payload.get("Code"))
        if by_code is not None:
            if not allow_update_by_code:
                raise ValidationFailed(f"Price List Item with Code '{payload.get('Code')}' already exists")
            existing = by_code
    errors: list[str] = []
    code = payload.get("Code", existing.get("Code") if existing else None)
    if not code or not str(code).strip():
        errors.append("Item code cannot be empty.")
    elif len(str(code)) > 30:
        errors.append("Item Code must not be more than 30 characters long.")
    if len(str(payload.get("Name", ""))) > 50:
        errors.append("Item Name must not be more than 50 characters long.")
    other = org.item_by_code(code) if code else None
    if existing is not None and other is not None and other["ItemID"] != existing["ItemID"]:
        errors.append(f"Price List Item with Code '{code}' already exists")
    _check_details(org, payload.get("SalesDetails"), errors)
    _check_details(org, payload.get("PurchaseDetails"), errors)
    if errors:
        raise ValidationFailed(*errors)
    before = dict(existing) if existing else None
    record: Record = dict(existing) if existing else {
        "ItemID": payload.get("ItemID") if ctx.trusted and payload.get("ItemID") else new_id(),
        "IsTrackedAsInventory": False, "IsSold": True, "IsPurchased": True,
        "SalesDetails": {}, "PurchaseDetails": {},
    }
    for key in ("Code", "Name", "Description", "PurchaseDescription", "IsSold", "IsPurchased",
                "InventoryAssetAccountCode"):
        if key in payload:
            record[key] = payload[key]
    record.setdefault("Name", record["Code"])
    for key in ("SalesDetails", "PurchaseDetails"):
        if key in payload:
            details = dict(payload[key])
            if "UnitPrice" in details:
                details["UnitPrice"] = quantize(details["UnitPrice"], 4 if ctx.unitdp == 4 else 2)
            record[key] = details
    changed = before is None or any(record.get(k) != before.get(k) for k in record if k != "UpdatedDateUTC")
    if changed:
        record["UpdatedDateUTC"] = ctx.now
    org.items[record["ItemID"]] = record
    return record, before is None


def tax_rate_usable_with(org: Org, tax_type: str, account: Record | None) -> bool:
    rate = org.tax_rate(tax_type)
    if rate is None or account is None:
        return True
    flag = CLASS_FLAG.get(str(account.get("Class")))
    return bool(rate.get(flag, True)) if flag else True


def find_tracking_option(category: Record, *, option_id: str | None, name: str | None) -> Record | None:
    for option in category["Options"]:
        if option_id and option["TrackingOptionID"] == option_id.lower():
            return option
        if not option_id and name and norm(option["Name"]) == norm(name):
            return option
    return None
