"""The console's user pool: MFA with an authenticator app unless the MSP turns it off (stack parameter
ConsoleMfa). Cognito's OPTIONAL is not offered: with it managed login never prompts anyone to set MFA up
("When MfaConfiguration is OPTIONAL, managed login doesn't automatically prompt users to set up MFA", AWS
CreateUserPool API reference), so it would be MFA in name only."""

from __future__ import annotations

from autoxero_cli.iam import load_template
from autoxero_cli.localenv import stack_parameters


def pool() -> dict:
    [props] = [r["Properties"] for r in load_template()["Resources"].values() if r["Type"] == "AWS::Cognito::UserPool"]
    return props


def test_mfa_is_on_by_default_with_an_authenticator_app():
    parameter = load_template()["Parameters"]["ConsoleMfa"]
    assert parameter["Default"] == "ON" and sorted(parameter["AllowedValues"]) == ["OFF", "ON"]
    assert pool()["MfaConfiguration"] == {"Ref": "ConsoleMfa"}
    assert pool()["EnabledMfas"] == {"Fn::If": ["ConsoleMfaOn", ["SOFTWARE_TOKEN_MFA"], {"Ref": "AWS::NoValue"}]}
    assert load_template()["Conditions"]["ConsoleMfaOn"] == {"Fn::Equals": [{"Ref": "ConsoleMfa"}, "ON"]}


def test_only_the_local_stack_turns_it_off():
    """Its managed-login stand-in signs in with a password and does not simulate MFA."""
    assert stack_parameters()["ConsoleMfa"] == "OFF"
