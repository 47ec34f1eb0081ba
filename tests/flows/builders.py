"""Small hand-built tenants for flow tests: the demo's reference data, with the companies, invoices and
Xero records each test needs. Amounts are computed the way Autotask computes them."""

from __future__ import annotations

import copy
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.server import load_fixture

REFERENCE = ("userDefinedFieldDefinitions", "Countries", "Currencies", "TaxCategories", "TaxRegions", "Taxes",
             "PaymentTerms", "InvoiceTemplates", "BillingCodes", "Products")
MANAGED = 29682801  # billing code "Managed Services", external number 210
SUPPORT = 29682804  # "Support Labour", external number 200
NO_EXTERNAL = 29682805  # a billing code without an external number
STANDARD, EXEMPT = 1, 2  # tax categories


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class Tenant:
    def __init__(self) -> None:
        demo = load_fixture()
        self.data: dict[str, Any] = {"sandbox": demo["sandbox"],
                                     "autotask": {k: copy.deepcopy(demo["autotask"][k]) for k in REFERENCE},
                                     "xero": copy.deepcopy(demo["xero"])}
        at = self.data["autotask"]
        at.update(Companies=[], Contacts=[], Invoices=[], BillingItems=[], PurchaseOrders=[], PurchaseOrderItems=[])
        self.data["xero"]["Contacts"] = []
        self._item_id = 500_000

    @property
    def at(self) -> dict[str, Any]:
        return self.data["autotask"]

    def company(self, cid: int, name: str, **fields: Any) -> Tenant:
        self.at["Companies"].append({"id": cid, "companyName": name, "companyType": 1, "isActive": True,
                                     "phone": "09 555 0100", "address1": "1 Queen Street", "city": "Auckland",
                                     "postalCode": "1010", "countryID": 153, "currencyID": 1, "taxRegionID": 1,
                                     "territoryID": 1, "invoiceTemplateID": 101,
                                     "lastTrackedModifiedDateTime": "2026-09-01T00:00:00Z", **fields})
        return self

    def contact(self, cid: int, company: int, first: str, last: str, **fields: Any) -> Tenant:
        self.at["Contacts"].append({"id": cid, "companyID": company, "firstName": first, "lastName": last,
                                    "emailAddress": f"{first.lower()}@example.co.nz", "isActive": 1,
                                    "primaryContact": False, "billingContact": False, **fields})
        return self

    def invoice(self, iid: int, company: int, number: str, lines: list[tuple[Any, ...]], *,
                total_override: Decimal | None = None, **fields: Any) -> Tenant:
        """lines: (quantity, rate, tax category, billing code[, extra item fields])."""
        total = Decimal(0)
        tax_total = Decimal(0)
        for line in lines:
            qty, rate, category, code = (Decimal(str(line[0])), Decimal(str(line[1])), line[2], line[3])
            extra = line[4] if len(line) > 4 else {}
            extended = cents(qty * rate)
            tax = cents(extended * Decimal("0.15")) if category == STANDARD and fields.get("taxRegionID", 1) == 1 \
                else Decimal(0)
            self._item_id += 1
            self.at["BillingItems"].append({
                "id": self._item_id, "invoiceID": iid, "companyID": company, "itemName": f"Line {self._item_id}",
                "description": "Work", "quantity": float(qty), "rate": float(rate), "extendedPrice": float(extended),
                "taxDollars": float(tax), "totalAmount": float(extended + tax), "billingCodeID": code,
                "taxCategoryID": category, "billingItemType": 1, **extra})
            total += extended + tax
            tax_total += tax
        self.at["Invoices"].append({
            "id": iid, "companyID": company, "invoiceNumber": number, "invoiceDateTime": "2026-11-01T00:00:00Z",
            "createDateTime": "2026-11-01T01:00:00Z", "invoiceTotal": float(total_override or total),
            "totalTaxValue": float(tax_total), "isVoided": False, "paymentTerm": 1, "taxRegionID": 1,
            "taxRegionName": "New Zealand", "invoiceEditorTemplateID": 101, **fields})
        return self

    def xero_contact(self, name: str, **fields: Any) -> Tenant:
        self.data["xero"]["Contacts"].append({"Name": name, "ContactStatus": "ACTIVE", **fields})
        return self

    def xero_invoice(self, number: str, contact_name: str, amount: float = 100.0) -> Tenant:
        self.data["xero"].setdefault("Invoices", []).append({
            "Type": "ACCREC", "InvoiceNumber": number, "Contact": {"Name": contact_name}, "Status": "AUTHORISED",
            "Date": "2026-10-01", "DueDate": "2026-10-20", "LineAmountTypes": "Exclusive",
            "LineItems": [{"Description": "Old", "Quantity": 1, "UnitAmount": amount, "AccountCode": "200"}]})
        return self
