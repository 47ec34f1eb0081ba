"""`autoxero users invite`: a person in the console's user pool, in exactly one role group."""

from __future__ import annotations

import pytest

from autoxero_cli.users import InviteError, invite


def groups_of(idp, pool: str, email: str) -> set[str]:
    return {g["GroupName"] for g in idp.admin_list_groups_for_user(UserPoolId=pool, Username=email)["Groups"]}


def test_invite_sets_one_role_and_can_change_it(stack):
    idp = stack.client("cognito-idp")
    pool = stack.physical["ConsoleUserPool"]
    done = invite(idp, pool, " Anna@MSP.example ", "operator", local=True)
    assert done.created and done.email == "anna@msp.example" and done.password
    assert groups_of(idp, pool, "anna@msp.example") == {"operator"}
    signed = idp.admin_initiate_auth(UserPoolId=pool, ClientId=stack.physical["ConsoleUserPoolClient"],
                                     AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                     AuthParameters={"USERNAME": "anna@msp.example", "PASSWORD": done.password})
    assert "IdToken" in signed["AuthenticationResult"]
    again = invite(idp, pool, "anna@msp.example", "viewer", local=True)
    assert not again.created and groups_of(idp, pool, "anna@msp.example") == {"viewer"}


@pytest.mark.parametrize(("email", "role", "message"), [
    ("anna@msp.example", "admin", "unknown role"), ("anna", "viewer", "not an e-mail address")])
def test_invite_refuses_mistakes(stack, email, role, message):
    with pytest.raises(InviteError, match=message):
        invite(stack.client("cognito-idp"), stack.physical["ConsoleUserPool"], email, role, local=True)


def test_a_person_who_leaves_is_removed_listed_as_disabled_and_cannot_sign_in(stack):
    from autoxero_cli.users import members, remove

    idp = stack.client("cognito-idp")
    pool, client = stack.physical["ConsoleUserPool"], stack.physical["ConsoleUserPoolClient"]
    anna = invite(idp, pool, "anna@msp.example", "operator", local=True)
    invite(idp, pool, "ben@msp.example", "viewer", local=True)
    assert [(m.email, m.role, m.enabled) for m in members(idp, pool)] == [
        ("anna@msp.example", "operator", True), ("ben@msp.example", "viewer", True)]
    remove(idp, pool, " Anna@MSP.example ")
    assert [(m.email, m.role, m.enabled) for m in members(idp, pool)] == [
        ("anna@msp.example", None, False), ("ben@msp.example", "viewer", True)]
    with pytest.raises(idp.exceptions.NotAuthorizedException):
        idp.admin_initiate_auth(UserPoolId=pool, ClientId=client, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                AuthParameters={"USERNAME": "anna@msp.example", "PASSWORD": anna.password})
    with pytest.raises(InviteError, match="not a console user"):
        remove(idp, pool, "nobody@msp.example")
