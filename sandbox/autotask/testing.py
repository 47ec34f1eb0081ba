"""Helpers for tests and benchmarks that need a running Autotask simulator.

    with running_autotask(fixture) as at:
        at.client().post("/Companies/query", json={"filter": [...]})
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from sandbox.autotask.app import create_app
from sandbox.autotask.simulator import AutotaskSimulator
from sandbox.core import RunningServer, SandboxClock, serve_in_thread
from sandbox.fixtures.autotask_demo import AUTOTASK_SANDBOX_CREDENTIALS as DEMO_CREDENTIALS


@dataclass
class RunningAutotask:
    sim: AutotaskSimulator
    server: RunningServer
    credentials: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def api(self) -> str:
        """The base every entity path hangs off: `{url}/atservicesrest/v1.0`."""
        return f"{self.server.url}/atservicesrest/v1.0"

    def headers(self, **override: str) -> dict[str, str]:
        headers = {"ApiIntegrationCode": self.credentials["integration_code"],
                   "UserName": self.credentials["username"], "Secret": self.credentials["secret"]}
        headers.update(override)
        return headers

    def client(self, *, timeout: float = 10.0, **override: str) -> httpx.Client:
        """An httpx client on the v1.0 base with the API user's headers."""
        return httpx.Client(base_url=self.api, headers=self.headers(**override), timeout=timeout)

    def control(self, *, timeout: float = 30.0) -> httpx.Client:
        """An httpx client on the `/_sandbox` control API."""
        return httpx.Client(base_url=f"{self.server.url}/_sandbox", timeout=timeout)


@contextmanager
def running_autotask(data: Mapping[str, Any] | None = None, *, clock: SandboxClock | None = None,
                     credentials: Mapping[str, str] | None = None, thread_limit: int = 3,
                     hourly_limit: int = 10_000) -> Iterator[RunningAutotask]:
    sim = AutotaskSimulator(clock or SandboxClock(), thread_limit=thread_limit, hourly_limit=hourly_limit)
    creds = dict(credentials or DEMO_CREDENTIALS)
    sim.load_credentials(creds)
    if data is not None:
        sim.load(data)
    server = serve_in_thread(create_app(sim))
    try:
        yield RunningAutotask(sim=sim, server=server, credentials=creds)
    finally:
        server.stop()


def small_tenant() -> dict[str, Any]:
    """A small, hand-made tenant whose every value tests can rely on (the demo fixture is for demos)."""
    def company(cid: int, name: str, kind: int, **kw: Any) -> dict[str, Any]:
        return {"id": cid, "companyName": name, "companyType": kind, "phone": "09 555 0100", "isActive": True,
                "ownerResourceID": 29682885, "createDate": "2024-01-10T00:00:00Z",
                "lastTrackedModifiedDateTime": "2026-09-01T00:00:00Z", **kw}

    def item(iid: int, invoice: int, name: str, amounts: tuple[float, float, float], **kw: Any) -> dict[str, Any]:
        qty, rate, tax = amounts
        ext = round(qty * rate, 2)
        return {"id": iid, "invoiceID": invoice, "companyID": 1001, "itemName": name, "quantity": qty, "rate": rate,
                "extendedPrice": ext, "taxDollars": tax, "totalAmount": round(ext + tax, 2), "billingCodeID": 11,
                "taxCategoryID": 1, "billingItemType": 1, "lineItemGroupDescription": "Labour",
                "lineItemFullDescription": f"{name}: full", **kw}

    return {
        "userDefinedFieldDefinitions": {"Companies": [{"name": "Billing Contact"}, {"name": "Industry"}]},
        "Companies": [
            company(1001, "Kauri Accounting Ltd", 1, territoryID=1, city="Auckland", userDefinedFields=[
                {"name": "Billing Contact", "value": "Mere Tane"}, {"name": "Industry", "value": "Accounting"}]),
            company(1002, "Pohutukawa Dental", 1, territoryID=1, city="Auckland",
                    userDefinedFields=[{"name": "Industry", "value": "Healthcare"}]),
            company(1003, "Tui Legal Partners ", 1, territoryID=2, city="Wellington", isTaxExempt=False),
            company(1004, 'Ngā Tāngata "Whānau" Trust', 1, territoryID=1, city="Rotorua", isTaxExempt=True),
            company(1005, "Ingram Micro NZ", 7, city="Auckland"),
            company(1006, "Mt Eden Bakery Ltd", 3, territoryID=1, isActive=False,
                    lastTrackedModifiedDateTime="2026-10-15T08:30:00Z"),
        ],
        "Contacts": [
            {"id": 2001, "companyID": 1001, "firstName": "Mere", "lastName": "Tane", "isActive": 1,
             "billingContact": True, "primaryContact": False, "emailAddress": "mere@kauri.co.nz"},
            {"id": 2002, "companyID": 1001, "firstName": "James", "lastName": "Walker", "isActive": 1,
             "billingContact": False, "primaryContact": True},
            {"id": 2003, "companyID": 1002, "firstName": "Aroha", "lastName": "Ngata", "isActive": 0,
             "billingContact": True, "primaryContact": True},
        ],
        "BillingCodes": [{"id": 11, "name": "Support Labour", "externalNumber": "200", "isActive": True,
                          "taxCategoryID": 1}],
        "Products": [{"id": 21, "name": "FortiGate 60F", "sku": "HW-FW-60F", "productBillingCodeID": 11,
                      "isActive": True}],
        "Invoices": [
            {"id": 3001, "companyID": 1001, "invoiceNumber": "INV-10001", "invoiceDateTime": "2026-08-01T00:00:00Z",
             "dueDate": "2026-08-21T00:00:00Z", "invoiceTotal": 189.75, "totalTaxValue": 24.75, "isVoided": False,
             "paymentTerm": 1, "taxRegionID": 1, "taxRegionName": "New Zealand", "comments": "August"},
            {"id": 3002, "companyID": 1002, "invoiceNumber": "INV-10002", "invoiceDateTime": "2026-09-15T00:00:00Z",
             "dueDate": "2026-10-05T00:00:00Z", "invoiceTotal": -172.5, "totalTaxValue": -22.5, "isVoided": False,
             "paymentTerm": 1, "taxRegionID": 1, "taxRegionName": "New Zealand",
             "webServiceDate": "2026-09-16T02:00:00Z"},
            {"id": 3003, "companyID": 1001, "invoiceNumber": "INV-10003", "invoiceDateTime": "2026-10-01T00:00:00Z",
             "dueDate": "2026-10-21T00:00:00Z", "invoiceTotal": 0, "totalTaxValue": 0, "isVoided": True,
             "voidedDate": "2026-10-02T00:00:00Z", "paymentTerm": 1, "taxRegionID": 1},
        ],
        "BillingItems": [
            item(4001, 3001, "Support", (1.0, 165.0, 24.75)),
            item(4002, 3002, "Credit", (-1.0, 150.0, -22.5), billingItemType=9, lineItemGroupDescription="Credits"),
        ],
        "PurchaseOrders": [
            {"id": 5001, "vendorID": 1005, "status": 1, "freight": 15.0, "purchaseOrderNumber": "PO-5001"},
            {"id": 5002, "vendorID": 1005, "status": 4, "submitDateTime": "2026-09-01T00:00:00Z"},
        ],
        "PurchaseOrderItems": [
            {"id": 6001, "orderID": 5001, "productID": 21, "quantity": 2, "unitCost": 980.0},
            {"id": 6002, "orderID": 5002, "productID": 21, "quantity": 1, "unitCost": 975.5},
        ],
    }
