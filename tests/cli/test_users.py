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
