"""The console's people: invited by e-mail into the stack's Cognito user pool, each in one role group; listed;
removed when they leave.

In AWS, Cognito e-mails the person a temporary password (AdminCreateUser with DesiredDeliveryMediums EMAIL) and
they choose their own at the first sign-in. Against the local sandbox nothing can be e-mailed, so the password is
set for them and printed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

ROLES = ("viewer", "operator")
CONSOLE_PORT = 8780  # `autoxero console`'s default
DEMO_USERS = (("operator@harbourit.example", "operator"), ("viewer@harbourit.example", "viewer"))
DEMO_PASSWORD = "Sandbox-Console-1"  # noqa: S105 (the sandbox's published demo password, never a real one)


class InviteError(ValueError):
    pass


@dataclass(frozen=True)
class Invited:
    email: str
    role: str
    created: bool
    password: str | None  # only locally


def local_password() -> str:
    # Meets the pool's policy (12+ characters, upper, lower, digit).
    return "Ax1-" + secrets.token_urlsafe(12)


def invite(idp: Any, pool_id: str, email: str, role: str, *, local: bool,
           password: str | None = None) -> Invited:
    email = email.strip().lower()
    if role not in ROLES:
        raise InviteError(f"unknown role {role!r}; choose viewer (reads) or operator (reads and changes)")
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise InviteError(f"{email!r} is not an e-mail address")
    created = True
    args: dict[str, Any] = {"UserPoolId": pool_id, "Username": email,
                            "UserAttributes": [{"Name": "email", "Value": email},
                                               {"Name": "email_verified", "Value": "true"}]}
    if local:
        args["MessageAction"] = "SUPPRESS"
    else:
        args["DesiredDeliveryMediums"] = ["EMAIL"]
    try:
        idp.admin_create_user(**args)
    except idp.exceptions.UsernameExistsException:
        created = False
    for other in ROLES:
        if other != role:
            idp.admin_remove_user_from_group(UserPoolId=pool_id, Username=email, GroupName=other)
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=role)
    chosen = None
    if local:
        chosen = password or local_password()
        idp.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=chosen, Permanent=True)
    return Invited(email, role, created, chosen)


@dataclass(frozen=True)
class Member:
    email: str
    role: str | None  # None: in no role group (the console refuses them)
    enabled: bool
    status: str  # Cognito's UserStatus: FORCE_CHANGE_PASSWORD until the first sign-in, then CONFIRMED


def members(idp: Any, pool_id: str) -> list[Member]:
    """Everyone in the pool, with their role."""
    roles = {user["Username"]: group for group in ROLES
             for page in idp.get_paginator("list_users_in_group").paginate(UserPoolId=pool_id, GroupName=group)
             for user in page["Users"]}
    out = []
    for page in idp.get_paginator("list_users").paginate(UserPoolId=pool_id):
        for user in page["Users"]:
            attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
            out.append(Member(attributes.get("email", user["Username"]), roles.get(user["Username"]),
                              bool(user.get("Enabled", True)), str(user.get("UserStatus", ""))))
    return sorted(out, key=lambda m: m.email)


def remove(idp: Any, pool_id: str, email: str) -> None:
    """Someone leaves: out of every role group, signed out everywhere (their refresh tokens revoked) and
    disabled, so they cannot sign in again. An ID token already issued stays valid until it expires (at most
    the app client's IdTokenValidity, 60 minutes): API Gateway's JWT authorizer checks signature and expiry, not
    revocation."""
    email = email.strip().lower()
    try:
        idp.admin_get_user(UserPoolId=pool_id, Username=email)
    except idp.exceptions.UserNotFoundException:
        raise InviteError(f"{email} is not a console user") from None
    for role in ROLES:
        idp.admin_remove_user_from_group(UserPoolId=pool_id, Username=email, GroupName=role)
    idp.admin_user_global_sign_out(UserPoolId=pool_id, Username=email)
    idp.admin_disable_user(UserPoolId=pool_id, Username=email)
