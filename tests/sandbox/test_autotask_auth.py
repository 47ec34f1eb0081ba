"""Zone discovery and authentication as Autotask does them (docs/autotask.md §1, §2, §7)."""

from __future__ import annotations

import httpx
import pytest

from sandbox.autotask.testing import RunningAutotask, running_autotask, small_tenant

QUERY = {"filter": [{"op": "gte", "field": "id", "value": 0}]}


@pytest.fixture(scope="module")
def at():
    with running_autotask(small_tenant()) as running:
        yield running


def test_zone_information_needs_no_auth_and_points_at_this_server(at: RunningAutotask):
    r = httpx.get(f"{at.api}/zoneInformation", params={"user": "api@harbourit.example"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"zoneName", "url", "webUrl", "ci"}
    assert body["url"] == f"{at.url}/atservicesrest/"
    # the returned url is usable as the base of every further call
    q = httpx.post(f"{body['url']}v1.0/Companies/query", json=QUERY, headers=at.headers())
    assert q.status_code == 200


def test_zone_information_for_unknown_user_is_the_autotask_500(at: RunningAutotask):
    r = httpx.get(f"{at.api}/zoneInformation", params={"user": "nobody@example.com"})
    assert r.status_code == 500
    assert r.json() == {"errors": ["Zone information could not be determined"]}
    assert httpx.get(f"{at.api}/zoneInformation").status_code == 500


def test_paths_are_case_insensitive(at: RunningAutotask):
    zone = httpx.get(f"{at.url}/ATServicesRest/V1.0/ZoneInformation", params={"user": "API@harbourit.example"})
    assert zone.status_code == 200
    r = httpx.post(f"{at.url}/ATServicesRest/V1.0/companies/QUERY", json=QUERY, headers=at.headers())
    assert r.status_code == 200
    assert len(r.json()["items"]) == 7   # the six of small_tenant() and company 0


def test_header_names_are_case_insensitive(at: RunningAutotask):
    headers = {"apiintegrationcode": "AUTOXERO-SANDBOX", "USERNAME": "api@harbourit.example",
               "secret": "sandbox-autotask-secret"}
    assert httpx.post(f"{at.api}/Companies/query", json=QUERY, headers=headers).status_code == 200


def test_wrong_integration_code_is_a_500_with_autotask_words(at: RunningAutotask):
    r = httpx.post(f"{at.api}/Companies/query", json=QUERY, headers=at.headers(ApiIntegrationCode="NOPE"))
    assert r.status_code == 500
    assert r.json() == {"errors": ["IntegrationCode is invalid."]}


def test_unknown_user_is_a_500_and_wrong_secret_a_401(at: RunningAutotask):
    unknown = httpx.post(f"{at.api}/Companies/query", json=QUERY, headers=at.headers(UserName="who@example.com"))
    assert unknown.status_code == 500
    assert unknown.json()["errors"]
    bad_secret = httpx.post(f"{at.api}/Companies/query", json=QUERY, headers=at.headers(Secret="wrong"))
    assert bad_secret.status_code == 401
    assert bad_secret.json()["errors"]


def test_missing_headers_are_rejected_and_no_data_leaks(at: RunningAutotask):
    r = httpx.post(f"{at.api}/Companies/query", json=QUERY)
    assert r.status_code == 500
    assert "items" not in r.json()
    r = httpx.get(f"{at.api}/Companies/1001")
    assert r.status_code == 500


def test_threshold_information_needs_auth(at: RunningAutotask):
    assert httpx.get(f"{at.api}/ThresholdInformation").status_code == 500
    r = httpx.get(f"{at.api}/ThresholdInformation", headers=at.headers())
    assert r.status_code == 200
    assert set(r.json()) == {"externalRequestThreshold", "requestThresholdTimeframe", "currentTimeframeRequestCount"}


def test_version_information(at: RunningAutotask):
    r = httpx.get(f"{at.url}/atservicesrest/versioninformation")
    assert r.status_code == 200
    assert "1.0" in r.json()["apiVersions"]


def test_a_second_api_user_can_be_added():
    with running_autotask(small_tenant()) as running:
        running.sim.load_credentials({"username": "other@harbourit.example", "secret": "s2",
                                      "integration_code": "OTHER-CODE"})
        headers = running.headers(UserName="other@harbourit.example", Secret="s2", ApiIntegrationCode="OTHER-CODE")
        assert httpx.post(f"{running.api}/Companies/query", json=QUERY, headers=headers).status_code == 200
        # one user's secret does not open another's account
        mixed = running.headers(UserName="other@harbourit.example")
        assert httpx.post(f"{running.api}/Companies/query", json=QUERY, headers=mixed).status_code == 401
