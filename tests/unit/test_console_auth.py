"""Who may do what in the console, decided from the claims API Gateway's JWT authorizer hands over."""

from __future__ import annotations

import pytest

from autoxero.console.auth import Csrf, Forbidden, NotSignedIn, Person, groups_of


@pytest.mark.parametrize(("raw", "groups"), [
    ("[operator viewer]", ("operator", "viewer")),  # how an HTTP API serializes an array claim
    (["viewer"], ("viewer",)),
    ("operator", ("operator",)),
    ("[]", ()),
    (None, ()),
])
def test_group_claims_in_every_shape(raw, groups):
    claims = {} if raw is None else {"cognito:groups": raw}
    assert groups_of(claims) == groups


def person(groups: str | None = "[viewer]", sub: str = "s-1") -> Person:
    claims = {"sub": sub, "email": "a@example.com"}
    if groups is not None:
        claims["cognito:groups"] = groups
    return Person.from_claims(claims)


def test_roles():
    assert person("[operator]").can_operate and person("[operator]").role == "operator"
    viewer = person("[viewer]")
    viewer.require("viewer")
    with pytest.raises(Forbidden, match="viewers can look"):
        viewer.require("operator")
    with pytest.raises(Forbidden, match="no role"):
        person(None).require("viewer")
    with pytest.raises(Forbidden, match="no role"):
        person("[admins]").require("viewer")
    with pytest.raises(NotSignedIn):
        Person.from_claims(None)
    with pytest.raises(NotSignedIn):
        Person.from_claims({"email": "a@example.com"})


def test_csrf_tokens_belong_to_one_person_and_expire():
    now = [1_800_000_000.0]
    csrf = Csrf(b"k" * 32, clock=lambda: now[0])
    alice, bob = person(sub="alice"), person(sub="bob")
    token = csrf.issue(alice)
    csrf.check(alice, token)
    for bad in (None, "", "garbage", token + "x", token.replace(".", ".A", 1), f"{int(now[0]) + 99}.{token[11:]}"):
        with pytest.raises(Forbidden):
            csrf.check(alice, bad)
    with pytest.raises(Forbidden, match="not valid for you"):
        csrf.check(bob, token)
    now[0] += 13 * 3600
    with pytest.raises(Forbidden, match="open too long"):
        csrf.check(alice, token)
    with pytest.raises(ValueError, match="too short"):
        Csrf(b"short")
