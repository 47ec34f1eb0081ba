"""The console's people: invited by e-mail into the stack's Cognito user pool, each in one role group.

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
