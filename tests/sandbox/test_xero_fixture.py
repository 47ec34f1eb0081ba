"""The Xero half of the demo fixture: deterministic, per CONVENTIONS.md, and loadable by the simulator."""

from __future__ import annotations

import json

from sandbox.core import SandboxClock
from sandbox.fixtures.xero_demo import TENANT_ID, demo_id, xero_demo, xero_sandbox_credentials
from sandbox.xero import XeroSimulator


def test_fixture_is_deterministic_json() -> None:
    first, second = xero_demo(), xero_demo()
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert demo_id("contact", "Kauri Accounting Ltd") == demo_id("contact", "Kauri Accounting Ltd")


def test_organisation_and_reference_data_follow_the_conventions() -> None:
    data = xero_demo()
    org = data["Organisation"]
    assert (org["Name"], org["BaseCurrency"], org["CountryCode"]) == ("Harbour IT Ltd", "NZD", "NZ")
    accounts = {a["Code"]: a for a in data["Accounts"]}
    for code in ("200", "210", "220", "230", "300", "310", "425", "090", "860", "610", "800", "820"):
        assert code in accounts, code
    assert accounts["210"]["Name"] == "Managed Services Revenue" and accounts["210"]["Type"] == "REVENUE"
    assert accounts["300"]["Type"] == "DIRECTCOSTS" and accounts["425"]["Type"] == "EXPENSE"
    assert accounts["090"]["Type"] == "BANK"
    rates = {t["TaxType"]: t for t in data["TaxRates"]}
    assert {"OUTPUT2", "INPUT2", "NONE", "ZERORATEDOUTPUT"} <= set(rates)
    assert rates["OUTPUT2"]["EffectiveRate"] == "15.0000" and rates["OUTPUT2"]["TaxComponents"][0]["Rate"] == "15.0000"
    assert [c["Code"] for c in data["Currencies"]] == ["NZD", "AUD", "USD"]
    codes = {i["Code"] for i in data["Items"]}
    assert {"HW-LAP-14", "HW-DOCK-USBC", "SW-M365-BP"} <= codes
    assert not {"HW-FW-60F", "HW-SW-24P"} & codes  # some Autotask SKUs deliberately missing
    assert any(not c.startswith(("HW-", "SW-")) for c in codes)
    tracking = {t["Name"]: [o["Name"] for o in t["Options"]] for t in data["TrackingCategories"]}
    assert tracking == {"Region": ["Auckland", "Wellington", "Christchurch"],
                        "Service Line": ["Managed Services", "Projects", "Hardware", "Support"]}
    themes = {t["Name"]: t["SortOrder"] for t in data["BrandingThemes"]}
    assert themes["Standard"] == 0 and "Managed Services" in themes


def test_contacts_carry_the_deliberate_conflicts() -> None:
    contacts = {c["Name"]: c for c in xero_demo()["Contacts"]}
    assert contacts["Kauri Accounting Ltd"]["ContactStatus"] == "ACTIVE"
    assert contacts["Old Mate Plumbing Ltd"]["ContactStatus"] == "ARCHIVED"
    assert "pohutukawa dental" in contacts and "Pohutukawa Dental" not in contacts


def test_simulator_loads_the_whole_fixture() -> None:
    sim = XeroSimulator(SandboxClock())
    sim.load({"xero": xero_demo(), "sandbox": {"xero": xero_sandbox_credentials()}})
    assert sim.tenant_id == TENANT_ID
    assert sim.credentials["webhook_key"] == "sandbox-xero-webhook-key"
    names = {c["Name"]: c["ContactStatus"] for c in sim.state("Contacts")}
    assert names["Old Mate Plumbing Ltd"] == "ARCHIVED"
    assert len(sim.state("Accounts")) == len(xero_demo()["Accounts"])
    assert sim.state("Organisation")[0]["Name"] == "Harbour IT Ltd"
    item = next(i for i in sim.state("Items") if i["Code"] == "SW-M365-BP")
    assert str(item["SalesDetails"]["UnitPrice"]) == "39.9000"


def test_the_xero_section_alone_also_loads() -> None:
    sim = XeroSimulator(SandboxClock())
    sim.load(xero_demo())
    assert {c["Code"] for c in sim.state("Currencies")} == {"NZD", "AUD", "USD"}
