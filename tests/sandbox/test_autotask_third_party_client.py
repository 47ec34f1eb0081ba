"""The Autotask simulator driven by a client written against live tenants, so its wire format is checked by code we
did not write: KerkhoffTechnologies/django-autotask (PyPI `django-autotask`, its `djautotask/api.py`), in production
use since 2019. What that client does and the simulator must accept, as a live tenant does:

- zone discovery without credentials, then every call under `{zone url}v1.0/`;
- a trailing slash on entity paths (`PATCH /Invoices/`, `GET /Companies/entityInformation/fields/`);
- GET queries with the JSON in `?search=`, property `filter` in lower case;
- no condition at all sent as `{"filter": []}` (200, no rows: Servosity/msp-skills#257);
- `isActive eq "true"` on the integer Contacts.isActive (its ContactSynchronizer);
- `Companies/0`, the root company, which every tenant has.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.conf import settings

from sandbox.autotask.testing import RunningAutotask, running_autotask, small_tenant

if not settings.configured:
    settings.configure(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
                       USE_TZ=True, AUTOTASK_SERVER_URL="http://unset.invalid/", AUTOTASK_CREDENTIALS={})

from django.core.cache import cache
from djautotask import api as dj


class InvoicesAPIClient(dj.AutotaskAPIClient):
    API = "Invoices"  # django-autotask has no Invoices client; its base class is the code under test


@pytest.fixture(scope="module")
def at() -> Iterator[RunningAutotask]:
    with running_autotask(small_tenant()) as running:
        yield running


@pytest.fixture
def tenant(at: RunningAutotask) -> RunningAutotask:
    at.sim.load(small_tenant())
    cache.clear()  # django-autotask caches the zone URL
    settings.AUTOTASK_SERVER_URL = f"{at.url}/atservicesrest/"
    settings.AUTOTASK_CREDENTIALS = {"username": at.credentials["username"], "password": at.credentials["secret"],
                                     "integration_code": at.credentials["integration_code"], "rest_api_version": "1.0"}
    return at


def test_zone_discovery_and_the_root_company(tenant: RunningAutotask):
    client = dj.AccountsAPIClient()
    assert client.server_url == f"{tenant.url}/atservicesrest/"
    assert client.get_single(0)["item"]["id"] == 0


def test_get_query_with_search(tenant: RunningAutotask):
    client = dj.AccountsAPIClient()
    client.add_condition(dj.ApiCondition(op="eq", field="companyType", value=7))
    assert [item["id"] for item in client.get(None)["items"]] == [1005]


def test_no_condition_is_an_empty_filter_and_no_rows(tenant: RunningAutotask):
    answer = dj.AccountsAPIClient().get(None)
    assert answer["items"] == [] and answer["pageDetails"]["count"] == 0


def test_true_on_the_integer_contacts_is_active(tenant: RunningAutotask):
    client = dj.ContactsAPIClient()
    client.add_condition(dj.ApiCondition(op="eq", field="isActive", value="true"))
    active = {c["id"] for c in tenant.sim.state("Contacts") if c["isActive"] == 1}
    assert {item["id"] for item in client.get(None)["items"]} == active != set()


def test_field_information_with_a_trailing_slash(tenant: RunningAutotask):
    fields = {f["name"]: f for f in dj.AccountTypesAPIClient().get(None)["fields"]}
    assert fields["companyType"]["isPickList"] is True
    assert fields["ownerResourceID"]["referenceEntityType"] == "Resource"


def test_patch_with_a_trailing_slash(tenant: RunningAutotask):
    stamped = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    answer = InvoicesAPIClient().update(SimpleNamespace(id=3001), {"webServiceDate": stamped})
    assert answer == {"itemId": 3001}
    assert tenant.sim.record("Invoices", 3001)["webServiceDate"] == "2026-11-20T09:30:00Z"
