"""The sandbox tenant's entities and fields: the single source of the rules the simulator enforces.

What `GET /v1.0/{Entity}/entityInformation/fields` returns is built from these definitions, and every
read-only, queryable, required, type, length and picklist rule the simulator applies comes from here too.
Field names, types and capabilities follow docs/autotask.md §9. Picklist ids vary by tenant in
Autotask (pitfall 16); the ones below are this sandbox tenant's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INTEGER, LONG, STRING, BOOLEAN, DECIMAL, DOUBLE, DATETIME = (
    "integer", "long", "string", "boolean", "decimal", "double", "datetime")
NUMERIC_TYPES = frozenset({INTEGER, LONG, DECIMAL, DOUBLE})


@dataclass(frozen=True)
class FieldDef:
    name: str
    data_type: str
    read_only: bool = False
    queryable: bool = True
    required: bool = False
    length: int = 0
    picklist: tuple[tuple[int, str], ...] = ()
    webhook: bool = False
    reference: str | None = None

    @property
    def is_picklist(self) -> bool:
        return bool(self.picklist)

    def picklist_values(self) -> list[dict[str, Any]]:
        return [{"value": str(value), "label": label, "isDefaultValue": False, "sortOrder": i,
                 "parentValue": "", "isActive": True, "isSystem": True}
                for i, (value, label) in enumerate(self.picklist)]

    def info(self) -> dict[str, Any]:
        return {
            "name": self.name, "dataType": self.data_type, "length": self.length,
            "isRequired": self.required, "isReadOnly": self.read_only, "isQueryable": self.queryable,
            "isReference": self.reference is not None, "referenceEntityType": reference_entity_type(self.reference),
            "isPickList": self.is_picklist, "picklistValues": self.picklist_values() if self.picklist else None,
            "picklistParentValueField": "", "isSupportedWebhookField": self.webhook,
        }


_SINGULAR = {"Companies": "Company", "Countries": "Country", "Currencies": "Currency", "Taxes": "Tax",
             "TaxCategories": "TaxCategory", "Resources": "Resource"}


def reference_entity_type(reference: str | None) -> str:
    """`referenceEntityType` names the entity in the singular ("Resource", "Company", "Contact"), as a recorded
    `entityInformation/fields` answer shows (apigrate/autotask-restapi README, fieldInfo example)."""
    if not reference:
        return ""
    return _SINGULAR.get(reference, reference[:-1] if reference.endswith("s") else reference)


@dataclass(frozen=True)
class ChildOf:
    """A child entity: written only through `/{parent}/{parentId}/{segment}`."""

    parent: str
    segment: str
    parent_field: str


@dataclass
class EntityDef:
    name: str
    fields: dict[str, FieldDef]
    can_create: bool = False
    can_update: bool = False
    can_delete: bool = False
    can_query: bool = True
    has_udfs: bool = False
    webhook_entity: str | None = None      # EntityType in webhook payloads ("Company")
    child_of: ChildOf | None = None
    modified_field: str | None = None      # bumped on every change
    created_field: str | None = None       # set on create
    first_id: int = 1
    by_lower: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_lower = {name.lower(): name for name in self.fields}

    def lookup(self, name: str) -> FieldDef | None:
        canonical = self.by_lower.get(name.lower())
        return self.fields[canonical] if canonical else None

    def info(self) -> dict[str, Any]:
        def access(flag: bool) -> str:
            return "All" if flag else "None"

        return {"info": {
            "name": self.name, "canCreate": self.can_create, "canDelete": self.can_delete,
            "canQuery": self.can_query, "canUpdate": self.can_update,
            "userAccessForCreate": access(self.can_create), "userAccessForDelete": access(self.can_delete),
            "userAccessForQuery": access(self.can_query), "userAccessForUpdate": access(self.can_update),
            "hasUserDefinedFields": self.has_udfs, "supportsWebhookCallouts": self.webhook_entity is not None,
        }}


def F(name: str, data_type: str, **kw: Any) -> FieldDef:
    if data_type == STRING and "length" not in kw:
        kw["length"] = 100
    return FieldDef(name, data_type, **kw)


def _fields(*defs: FieldDef) -> dict[str, FieldDef]:
    return {d.name: d for d in defs}


def _id() -> FieldDef:
    return F("id", LONG, read_only=True, required=True)


# --- picklists (this tenant's ids) ---------------------------------------------------------------

COMPANY_TYPES = ((1, "Customer"), (2, "Lead"), (3, "Prospect"), (4, "Dead"), (6, "Cancelation"),
                 (7, "Vendor"), (8, "Partner"))
COMPANY_TYPE_CUSTOMER, COMPANY_TYPE_PROSPECT, COMPANY_TYPE_VENDOR = 1, 3, 7
TERRITORIES = ((1, "Auckland"), (2, "Wellington"), (3, "Christchurch"))
BILLING_ITEM_TYPES = (
    (1, "Labor"), (2, "Expense"), (3, "Milestone"), (4, "Subscription"), (5, "Project Cost"),
    (6, "Ticket Cost"), (7, "Contract Cost"), (8, "Recurring Service"), (9, "Recurring Service Adjustment"),
    (10, "Recurring Service Bundle"), (11, "Recurring Service Bundle Adjustment"), (12, "Contract Block"),
    (13, "Contract Retainer"), (14, "Contract Incident"), (15, "Setup Fee"))
BILLING_CODE_TYPES = ((0, "System"), (1, "Non-System"))
BILLING_CODE_USE_TYPES = ((1, "Work Type"), (2, "Material"), (3, "Expense"), (4, "Recurring Contract Service"),
                          (5, "Milestone"), (6, "Internal Allocation"))
GL_ACCOUNTS = ((1, "200 Sales"), (2, "210 Managed Services Revenue"), (3, "220 Hardware Sales"),
               (4, "230 Project Services"))
PO_STATUSES = ((1, "New"), (2, "Submitted"), (3, "Received Partial"), (4, "Received Full"), (5, "Cancel"))
PO_NEW, PO_SUBMITTED, PO_RECEIVED_PARTIAL, PO_RECEIVED_FULL, PO_CANCEL = 1, 2, 3, 4, 5


# --- entities ------------------------------------------------------------------------------------

def _companies() -> EntityDef:
    w = {"webhook": True}
    return EntityDef("Companies", _fields(
        _id(),
        F("companyName", STRING, required=True, **w),
        F("companyNumber", STRING, length=50, **w),
        F("companyType", INTEGER, required=True, picklist=COMPANY_TYPES, **w),
        F("companyCategoryID", INTEGER, **w),
        F("isActive", BOOLEAN, **w),
        F("parentCompanyID", INTEGER, reference="Companies", **w),
        F("phone", STRING, required=True, length=25, **w),
        F("fax", STRING, length=25, **w),
        F("alternatePhone1", STRING, length=25, **w),
        F("alternatePhone2", STRING, length=25, **w),
        F("webAddress", STRING, length=255, **w),
        F("address1", STRING, length=128, **w),
        F("address2", STRING, length=128, **w),
        F("additionalAddressInformation", STRING, length=100, **w),
        F("city", STRING, length=50, **w),
        F("state", STRING, length=25, **w),
        F("postalCode", STRING, length=10, **w),
        F("countryID", INTEGER, reference="Countries", **w),
        F("billToCompanyLocationID", INTEGER),
        F("billToAddressToUse", INTEGER),
        F("billingAddress1", STRING, length=150, **w),
        F("billingAddress2", STRING, length=150, **w),
        F("billToAttention", STRING, length=50, **w),
        F("billToCity", STRING, length=50, **w),
        F("billToState", STRING, length=128, **w),
        F("billToZipCode", STRING, length=50, **w),
        F("billToCountryID", INTEGER, reference="Countries", **w),
        F("billToAdditionalAddressInformation", STRING, length=100),
        F("currencyID", INTEGER, reference="Currencies", **w),
        F("taxID", STRING, length=50, **w),
        F("taxRegionID", INTEGER, reference="TaxRegions", **w),
        F("isTaxExempt", BOOLEAN, **w),
        F("invoiceTemplateID", INTEGER, reference="InvoiceTemplates", **w),
        F("invoiceMethod", INTEGER),
        F("invoiceEmailMessageID", INTEGER),
        F("invoiceNonContractItemsToParentCompany", BOOLEAN),
        F("purchaseOrderTemplateID", INTEGER),
        F("quoteTemplateID", INTEGER),
        F("quoteEmailMessageID", INTEGER),
        F("ownerResourceID", INTEGER, required=True, reference="Resources", **w),
        F("territoryID", INTEGER, picklist=TERRITORIES, **w),
        F("marketSegmentID", INTEGER),
        F("classification", INTEGER),
        F("createDate", DATETIME, read_only=True),
        F("lastActivityDate", DATETIME, read_only=True),
        F("lastTrackedModifiedDateTime", DATETIME, read_only=True),
        F("apiVendorID", INTEGER),
    ), can_create=True, can_update=True, has_udfs=True, webhook_entity="Company",
        modified_field="lastTrackedModifiedDateTime", created_field="createDate", first_id=29683500)


def _contacts() -> EntityDef:
    w = {"webhook": True}
    return EntityDef("Contacts", _fields(
        _id(),
        F("companyID", INTEGER, required=True, reference="Companies", **w),
        F("firstName", STRING, required=True, length=50, **w),
        F("lastName", STRING, required=True, length=50, **w),
        F("emailAddress", STRING, length=254, **w),
        F("emailAddress2", STRING, length=254, **w),
        F("emailAddress3", STRING, length=254, **w),
        F("phone", STRING, length=25, **w),
        F("mobilePhone", STRING, length=25, **w),
        F("alternatePhone", STRING, length=25, **w),
        F("extension", STRING, length=10, **w),
        F("faxNumber", STRING, length=25, **w),
        F("title", STRING, length=50, **w),
        F("addressLine", STRING, length=128, **w),
        F("addressLine1", STRING, length=128, **w),
        F("city", STRING, length=32, **w),
        F("state", STRING, length=40, **w),
        F("zipCode", STRING, length=16, **w),
        F("countryID", INTEGER, reference="Countries", **w),
        F("companyLocationID", INTEGER),
        F("isActive", INTEGER, required=True, **w),
        F("primaryContact", BOOLEAN, **w),
        F("billingContact", BOOLEAN, **w),
        F("externalID", STRING, length=50, **w),
        F("lastModifiedDate", DATETIME, read_only=True),
        F("lastActivityDate", DATETIME, read_only=True),
        F("createDate", DATETIME, read_only=True),
    ), can_create=True, can_update=True, can_delete=True, has_udfs=True, webhook_entity="Contact",
        child_of=ChildOf("Companies", "Contacts", "companyID"), modified_field="lastModifiedDate",
        created_field="createDate", first_id=30682000)


def _invoices() -> EntityDef:
    ro = {"read_only": True}
    return EntityDef("Invoices", _fields(
        _id(),
        F("companyID", INTEGER, reference="Companies", **ro),
        F("invoiceNumber", STRING, length=100),
        F("invoiceDateTime", DATETIME, **ro),
        F("createDateTime", DATETIME, **ro),
        F("creatorResourceID", INTEGER, reference="Resources", **ro),
        F("batchID", INTEGER, **ro),
        F("comments", STRING, length=1000, **ro),
        F("dueDate", DATETIME, queryable=False, **ro),
        F("fromDate", DATETIME, **ro),
        F("toDate", DATETIME, **ro),
        F("invoiceEditorTemplateID", INTEGER, reference="InvoiceTemplates", **ro),
        F("invoiceTotal", DECIMAL, **ro),
        F("totalTaxValue", DECIMAL, **ro),
        F("isVoided", BOOLEAN, **ro),
        F("voidedDate", DATETIME, **ro),
        F("voidedByResourceID", INTEGER, reference="Resources", **ro),
        F("orderNumber", STRING, length=100, **ro),
        F("paidDate", DATETIME),
        F("paymentTerm", INTEGER, reference="PaymentTerms", **ro),
        F("taxGroup", INTEGER, **ro),
        F("taxRegionID", INTEGER, queryable=False, reference="TaxRegions", **ro),
        F("taxRegionName", STRING, length=200, **ro),
        F("webServiceDate", DATETIME),
        # Newer fields (tphakala/go-autotask entities/invoices.go, generated from a live tenant: invoiceStatus int64,
        # invoiceTaxMethodExternalCode string); their picklist values are not public, so none are enforced here.
        F("invoiceStatus", INTEGER, **ro),
        F("invoiceTaxMethodExternalCode", STRING, length=100, **ro),
    ), can_update=True, created_field="createDateTime", first_id=24001)


_BILLING_ITEM_REFS = (
    "contractID", "contractChargeID", "contractServiceID", "contractServicePeriodID", "contractServiceBundleID",
    "contractServiceBundlePeriodID", "contractServiceAdjustmentID", "contractServiceBundleAdjustmentID",
    "contractBlockID", "projectID", "projectChargeID", "ticketID", "ticketChargeID", "taskID", "timeEntryID",
    "expenseItemID", "milestoneID", "serviceID", "serviceBundleID", "roleID", "vendorID",
    "configurationItemID", "organizationalLevelAssociationID", "accountManagerWhenApprovedID",
    "itemApproverID")


def _billing_items() -> EntityDef:
    ro = {"read_only": True}
    return EntityDef("BillingItems", _fields(
        _id(),
        F("invoiceID", INTEGER, reference="Invoices", **ro),
        F("companyID", INTEGER, reference="Companies", **ro),
        F("itemName", STRING, length=100, **ro),
        F("description", STRING, length=2000, **ro),
        F("quantity", DECIMAL, **ro),
        F("rate", DECIMAL, **ro),
        F("extendedPrice", DECIMAL, **ro),
        F("totalAmount", DECIMAL, **ro),
        F("taxDollars", DECIMAL, **ro),
        F("ourCost", DECIMAL, **ro),
        F("billingCodeID", INTEGER, reference="BillingCodes", **ro),
        F("taxCategoryID", INTEGER, reference="TaxCategories", **ro),
        F("billingItemType", INTEGER, picklist=BILLING_ITEM_TYPES, **ro),
        F("subType", INTEGER, **ro),
        # An integer 0/1, not a boolean: tphakala/go-autotask entities/billing_items.go (generated from a live
        # tenant's entityInformation) types it int64.
        F("nonBillable", INTEGER, **ro),
        F("itemDate", DATETIME, **ro),
        F("postedDate", DATETIME, **ro),
        F("postedOnTime", DATETIME, **ro),
        F("purchaseOrderNumber", STRING, length=50, **ro),
        F("lineItemFullDescription", STRING, length=4000, queryable=False, **ro),
        F("lineItemGroupDescription", STRING, length=4000, queryable=False, **ro),
        F("sortOrderID", INTEGER, **ro),
        # No productID: a billing item reaches its product through the charge it bills (contractChargeID,
        # ticketChargeID, projectChargeID) or its recurring service (serviceID, serviceBundleID). Sources:
        # the REST swagger's BillingItemModel (panoramicdata/AutoTask.Psa.Api Data/BillingItemModel.cs) and
        # tphakala/go-autotask entities/billing_items.go (generated from a live tenant) list no productID.
        *(F(name, INTEGER, **ro) for name in _BILLING_ITEM_REFS),
        F("internalCurrencyExtendedPrice", DECIMAL, **ro),
        F("internalCurrencyRate", DECIMAL, **ro),
        F("internalCurrencyTaxDollars", DECIMAL, **ro),
        F("internalCurrencyTotalAmount", DECIMAL, **ro),
        F("webServiceDate", DATETIME),
    ), can_update=True, first_id=880001)


def _billing_codes() -> EntityDef:
    return EntityDef("BillingCodes", _fields(
        _id(),
        F("name", STRING, length=200),
        F("description", STRING, length=500),
        F("billingCodeType", INTEGER, picklist=BILLING_CODE_TYPES),
        F("useType", INTEGER, picklist=BILLING_CODE_USE_TYPES),
        F("externalNumber", STRING, length=100),
        F("generalLedgerAccount", INTEGER, picklist=GL_ACCOUNTS),
        F("taxCategoryID", INTEGER, reference="TaxCategories"),
        F("unitPrice", DECIMAL),
        F("unitCost", DECIMAL),
        F("markupRate", DECIMAL),
        F("department", INTEGER),
        F("afterHoursWorkType", INTEGER),
        F("isActive", BOOLEAN),
        F("isExcludedFromNewContracts", BOOLEAN),
    ), first_id=29682800)


def _products() -> EntityDef:
    return EntityDef("Products", _fields(
        _id(),
        F("name", STRING, required=True, length=100),
        F("description", STRING, length=8000),
        F("sku", STRING, length=50),
        F("manufacturerName", STRING, length=100),
        F("manufacturerProductName", STRING, length=100),
        F("vendorProductNumber", STRING, length=50),
        F("externalProductID", STRING, length=50),
        F("internalProductID", STRING, length=100),
        F("unitPrice", DECIMAL),
        F("unitCost", DECIMAL),
        F("msrp", DECIMAL),
        F("markupRate", DECIMAL),
        F("productBillingCodeID", INTEGER, required=True, reference="BillingCodes"),
        F("chargeBillingCodeID", INTEGER, reference="BillingCodes"),
        F("productCategory", INTEGER),
        F("periodType", INTEGER),
        F("billingType", INTEGER),
        F("priceCostMethod", INTEGER),
        F("defaultVendorID", INTEGER, reference="Companies"),
        F("isActive", BOOLEAN, required=True),
        F("isSerialized", BOOLEAN),
        F("doesNotRequireProcurement", BOOLEAN),
        F("isEligibleForRma", BOOLEAN),
        F("link", STRING, length=500),
        F("createdTime", DATETIME, read_only=True),
        F("createdByResourceID", INTEGER, read_only=True, reference="Resources"),
    ), can_create=True, can_update=True, created_field="createdTime", first_id=29684000)


CHARGE_TYPES = ((1, "Operational"), (2, "Capitalized"))
CHARGE_STATUSES = ((1, "Need to Order/Fulfill"), (2, "Ordered"), (3, "Back Ordered"), (4, "Shipped"),
                   (5, "Delivered"), (6, "Canceled"), (7, "Fulfilled"))

_CHARGE_PARENTS = {"ContractCharges": "contractID", "TicketCharges": "ticketID", "ProjectCharges": "projectID"}


def _charges(name: str, first_id: int) -> EntityDef:
    """ContractCharges, TicketCharges, ProjectCharges: the costs (products, materials) billing items bill.

    Fields: panoramicdata/AutoTask.Psa.Api Data/ContractChargeModel.cs, TicketChargeModel.cs,
    ProjectChargeModel.cs (the REST swagger); "must have either a productID or billingCodeID" and
    billableAmount = unitQuantity x unitPrice: the ContractCharges entity page
    (https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/REST/Entities/ContractChargesEntity.htm).
    Query-only here: their parents (Contracts, Tickets, Projects) are not simulated.
    """
    parent = _CHARGE_PARENTS[name]
    extra = (F("estimatedCost", DECIMAL),) if name == "ProjectCharges" else ()
    return EntityDef(name, _fields(
        _id(),
        F(parent, INTEGER, required=True),
        F("name", STRING, required=True, length=100),
        F("description", STRING, length=2000),
        F("productID", INTEGER, reference="Products"),
        F("billingCodeID", INTEGER, reference="BillingCodes"),
        F("chargeType", INTEGER, required=True, picklist=CHARGE_TYPES),
        F("status", INTEGER, picklist=CHARGE_STATUSES),
        F("unitQuantity", DECIMAL, required=True),
        F("unitPrice", DECIMAL),
        F("unitCost", DECIMAL),
        F("billableAmount", DECIMAL, read_only=True),
        F("extendedCost", DECIMAL, read_only=True),
        F("internalCurrencyBillableAmount", DECIMAL, read_only=True),
        F("internalCurrencyUnitPrice", DECIMAL),
        F("isBillableToCompany", BOOLEAN),
        F("isBilled", BOOLEAN, read_only=True),
        F("datePurchased", DATETIME, required=True),
        F("purchaseOrderNumber", STRING, length=50),
        F("internalPurchaseOrderNumber", STRING, length=50),
        F("notes", STRING, length=2000),
        F("contractServiceID", INTEGER),
        F("contractServiceBundleID", INTEGER),
        F("organizationalLevelAssociationID", INTEGER),
        F("createDate", DATETIME, read_only=True),
        F("creatorResourceID", INTEGER, read_only=True, reference="Resources"),
        F("statusLastModifiedBy", INTEGER, read_only=True),
        F("statusLastModifiedDate", DATETIME, read_only=True),
        *extra,
    ), first_id=first_id)


def _services(name: str, first_id: int) -> EntityDef:
    """Services and ServiceBundles: the recurring-service catalogue a billing item's serviceID /
    serviceBundleID name. Fields (sku included) from tphakala/go-autotask entities/services.go and
    entities/service_bundles.go (generated from a live tenant). Query-only here."""
    extra = (F("percentageDiscount", DOUBLE), F("unitDiscount", DECIMAL)) if name == "ServiceBundles" else ()
    return EntityDef(name, _fields(
        _id(),
        F("name", STRING, required=True, length=150),
        F("description", STRING, length=400),
        F("invoiceDescription", STRING, length=1000),
        F("sku", STRING, length=50),
        F("catalogNumberPartNumber", STRING, length=50),
        F("manufacturerServiceProvider", STRING, length=100),
        F("manufacturerServiceProviderProductNumber", STRING, length=100),
        F("externalID", STRING, length=50),
        F("internalID", STRING, length=50),
        F("billingCodeID", INTEGER, reference="BillingCodes"),
        F("unitPrice", DECIMAL),
        F("unitCost", DECIMAL),
        F("markupRate", DECIMAL),
        F("periodType", INTEGER, required=True),
        F("serviceLevelAgreementID", INTEGER),
        F("vendorCompanyID", INTEGER, reference="Companies"),
        F("isActive", BOOLEAN),
        F("url", STRING, length=500),
        F("createDate", DATETIME, read_only=True),
        F("creatorResourceID", INTEGER, read_only=True, reference="Resources"),
        F("lastModifiedDate", DATETIME, read_only=True),
        F("updateResourceID", INTEGER, read_only=True, reference="Resources"),
        *extra,
    ), first_id=first_id)


def _purchase_orders() -> EntityDef:
    return EntityDef("PurchaseOrders", _fields(
        _id(),
        F("vendorID", INTEGER, required=True, reference="Companies"),
        F("purchaseForCompanyID", INTEGER, reference="Companies"),
        F("status", INTEGER, required=True, picklist=PO_STATUSES),
        F("purchaseOrderNumber", STRING, length=50),
        F("externalPONumber", STRING, length=50),
        F("vendorInvoiceNumber", STRING, length=50),
        F("additionalVendorInvoiceNumbers", STRING, length=200),
        F("createDateTime", DATETIME, read_only=True),
        F("submitDateTime", DATETIME, read_only=True),
        F("cancelDateTime", DATETIME, read_only=True),
        F("creatorResourceID", INTEGER, read_only=True, reference="Resources"),
        F("paymentTerm", INTEGER, reference="PaymentTerms"),
        F("taxRegionID", INTEGER, reference="TaxRegions"),
        F("showTaxCategory", BOOLEAN),
        F("showEachTaxInGroup", BOOLEAN),
        F("freight", DECIMAL),
        F("internalCurrencyFreight", DECIMAL),
        F("shippingType", INTEGER),
        F("shippingDate", DATETIME),
        F("latestEstimatedArrivalDate", DATETIME, read_only=True),
        F("shipToName", STRING, length=100),
        F("shipToAddress1", STRING, length=128),
        F("shipToAddress2", STRING, length=128),
        F("shipToCity", STRING, length=30),
        F("shipToState", STRING, length=25),
        F("shipToPostalCode", STRING, length=20),
        F("phone", STRING, length=25),
        F("fax", STRING, length=25),
        F("generalMemo", STRING, length=4000),
        F("purchaseOrderTemplateID", INTEGER),
        F("useItemDescriptionsFrom", INTEGER),
    ), can_create=True, can_update=True, created_field="createDateTime", first_id=7001)


def _purchase_order_items() -> EntityDef:
    return EntityDef("PurchaseOrderItems", _fields(
        _id(),
        F("orderID", INTEGER, required=True, reference="PurchaseOrders"),
        F("productID", INTEGER, reference="Products"),
        F("inventoryLocationID", INTEGER),
        F("quantity", INTEGER, required=True),
        F("unitCost", DECIMAL, required=True),
        F("internalCurrencyUnitCost", DECIMAL),
        F("memo", STRING, length=4000),
        F("estimatedArrivalDate", DATETIME),
        F("chargeID", INTEGER),
        F("contractID", INTEGER),
        F("projectID", INTEGER),
        F("ticketID", INTEGER),
        F("salesOrderID", INTEGER),
    ), can_create=True, can_update=True, child_of=ChildOf("PurchaseOrders", "Items", "orderID"), first_id=9001)


def _simple(name: str, *defs: FieldDef, first_id: int = 1, writable: bool = False) -> EntityDef:
    return EntityDef(name, _fields(_id(), *defs), can_create=writable, can_update=writable, first_id=first_id)


def _reference_entities() -> list[EntityDef]:
    return [
        _simple("Taxes", F("taxRegionID", INTEGER, required=True, reference="TaxRegions"),
                F("taxCategoryID", INTEGER, required=True, reference="TaxCategories"),
                F("taxName", STRING, required=True, length=100), F("taxRate", DOUBLE, required=True),
                F("isCompounded", BOOLEAN), writable=True),
        _simple("TaxCategories", F("name", STRING, required=True, length=200),
                F("description", STRING, length=2000), F("isActive", BOOLEAN), writable=True),
        _simple("TaxRegions", F("name", STRING, required=True, length=200), F("isActive", BOOLEAN),
                writable=True),
        _simple("InvoiceTemplates", F("name", STRING, length=100), F("isActive", BOOLEAN),
                F("dateFormat", STRING, length=20), F("numberFormat", STRING, length=20),
                F("currencyPositiveFormat", STRING, length=20), F("currencyNegativeFormat", STRING, length=20),
                F("pageLayout", INTEGER), F("paymentTerms", INTEGER, reference="PaymentTerms"),
                F("showTaxCategory", BOOLEAN), F("showEachTaxInGroup", BOOLEAN), F("showGridHeader", BOOLEAN),
                F("displayTaxCategorySuperscripts", BOOLEAN), F("coveringPeriod", STRING, length=50)),
        _simple("PaymentTerms", F("name", STRING, required=True, length=50), F("description", STRING, length=500),
                F("isActive", BOOLEAN), F("paymentDueInDays", INTEGER), writable=True),
        _simple("Countries", F("name", STRING, length=100), F("displayName", STRING, length=100),
                F("countryCode", STRING, length=2), F("isActive", BOOLEAN), F("isDefaultCountry", BOOLEAN),
                F("addressFormatID", INTEGER)),
        _simple("Currencies", F("name", STRING, length=3), F("description", STRING, length=100),
                F("displaySymbol", STRING, length=10), F("exchangeRate", DECIMAL), F("isActive", BOOLEAN),
                F("isInternalCurrency", BOOLEAN)),
    ]


WEBHOOK_RESOURCES = {"CompanyWebhooks": "Companies", "ContactWebhooks": "Contacts"}


def _webhook_entities(prefix: str, target: EntityDef) -> list[EntityDef]:
    """`{prefix}Webhooks` and its children Fields, UdfFields, ExcludedResources (docs/autotask.md §11).

    Fields, types and lengths, read-only isReady / webhookGUID / ownerResourceID: Autotask's
    https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/Webhooks/REST_WebhooksEntity.htm and the swagger model
    panoramicdata/AutoTask.Psa.Api `AutoTask.Psa.Api/Data/CompanyWebhookModel.cs`; webhookUrl and deactivationUrl
    both required (Webhooks_Creating.htm: "Both fields are required to create the webhook"); a child field row is
    {webhookID, fieldID, isSubscribedField, isDisplayAlwaysField} (REST_WebhookFieldsEntity.htm,
    `Data/CompanyWebhookFieldModel.cs`) and the fieldID values are the `fieldID` picklist of
    `{prefix}WebhookFields/entityInformation/fields`, labelled with REST field names (REST_WebhookFieldsEntity.htm;
    msoukhomlinov/n8n-nodes-autotask `nodes/Autotask/helpers/webhook/fields.ts` reads them there); isReady only once a
    field is subscribed ("at least one field with IsSubscribedField: true is required to activate the webhook",
    nango.dev/docs/api-integrations/autotask/webhooks). Whether a query returns `secretKey` is not documented:
    autoxero never relies on reading it back."""
    webhooks = f"{prefix}Webhooks"
    field_ids = tuple((webhook_field_id(target, f.name), f.name) for f in target.fields.values() if f.webhook)
    return [
        EntityDef(webhooks, _fields(
            _id(),
            F("isActive", BOOLEAN, required=True),
            F("name", STRING, required=True, length=50),
            F("webhookUrl", STRING, required=True, length=500),
            F("deactivationUrl", STRING, required=True, length=500),
            F("secretKey", STRING, length=64),
            F("isSubscribedToCreateEvents", BOOLEAN),
            F("isSubscribedToUpdateEvents", BOOLEAN),
            F("isSubscribedToDeleteEvents", BOOLEAN),
            F("notificationEmailAddress", STRING, length=150),
            F("sendThresholdExceededNotification", BOOLEAN),
            F("isReady", BOOLEAN, read_only=True),
            F("webhookGUID", STRING, read_only=True, length=36),
            F("ownerResourceID", INTEGER, read_only=True, reference="Resources"),
        ), can_create=True, can_update=True, can_delete=True, first_id=1),
        EntityDef(f"{prefix}WebhookFields", _fields(
            _id(),
            F("webhookID", INTEGER, required=True, reference=webhooks),
            F("fieldID", INTEGER, required=True, picklist=field_ids),
            F("isSubscribedField", BOOLEAN),
            F("isDisplayAlwaysField", BOOLEAN),
        ), can_create=True, can_update=True, can_delete=True, child_of=ChildOf(webhooks, "Fields", "webhookID")),
        EntityDef(f"{prefix}WebhookUdfFields", _fields(
            _id(),
            F("webhookID", INTEGER, required=True, reference=webhooks),
            F("udfFieldID", INTEGER, required=True),   # picklist: the loaded UDF definitions (dynamic)
            F("isSubscribedField", BOOLEAN),
            F("isDisplayAlwaysField", BOOLEAN),
        ), can_create=True, can_update=True, can_delete=True,
            child_of=ChildOf(webhooks, "UdfFields", "webhookID")),
        EntityDef(f"{prefix}WebhookExcludedResources", _fields(
            _id(),
            F("webhookID", INTEGER, required=True, reference=webhooks),
            F("resourceID", INTEGER, required=True, reference="Resources"),
        ), can_create=True, can_delete=True, child_of=ChildOf(webhooks, "ExcludedResources", "webhookID")),
    ]


def webhook_field_id(entity: EntityDef, field_name: str) -> int:
    """A stable FieldID for a webhook-supported field (this tenant's numbering)."""
    base = {"Companies": 1000, "Contacts": 2000}.get(entity.name, 0)
    return base + list(entity.fields).index(field_name)


def build_entities() -> dict[str, EntityDef]:
    companies, contacts = _companies(), _contacts()
    entities = [companies, contacts, _invoices(), _billing_items(), _billing_codes(), _products(),
                _charges("ContractCharges", 61001), _charges("TicketCharges", 62001),
                _charges("ProjectCharges", 63001), _services("Services", 41), _services("ServiceBundles", 71),
                _purchase_orders(), _purchase_order_items(), *_reference_entities(),
                *_webhook_entities("Company", companies), *_webhook_entities("Contact", contacts)]
    return {e.name: e for e in entities}


ENTITIES: dict[str, EntityDef] = build_entities()
ENTITIES_BY_LOWER: dict[str, EntityDef] = {name.lower(): e for name, e in ENTITIES.items()}
CHILD_SEGMENTS: dict[tuple[str, str], EntityDef] = {
    (e.child_of.parent.lower(), e.child_of.segment.lower()): e for e in ENTITIES.values() if e.child_of}


def entity(name: str) -> EntityDef | None:
    return ENTITIES_BY_LOWER.get(name.lower())
