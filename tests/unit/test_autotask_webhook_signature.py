"""Autotask webhook signatures checked against vectors written out by hand from the published algorithm.

Autotask's "Secret key and payload verification" page: `X-Hook-Signature: sha1=<base64 HMAC-SHA1(SecretKey, …)>`.
What it hashes is not the delivered body but that body with, inside JSON strings, `& < > ' " + \\`` and every
non-ASCII UTF-16 unit written as `\\uXXXX` in upper-case hex, `\\"` as `\\u0022`, other escapes kept
(msoukhomlinov/n8n-nodes-autotask nodes/Autotask/helpers/webhook/signature.ts, fixed in 2025 for non-English
characters). Characters outside the BMP are two escapes, a UTF-16 surrogate pair, as .NET's JSON encoder writes them.

The `signed` column below is typed by hand from that rule — no escaper (ours or the sandbox's) builds it — so these
tests can fail when either side gets the rule wrong.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from autoxero.webhooks import accept_autotask, verify_autotask
from sandbox.autotask.webhooks import sign as sandbox_sign

SECRET = "Wh-secret-0123456789"

# (company name as a person typed it, the name inside the delivered JSON, the name inside the signed text)
VECTORS = [
    ("Café Ltd", "Café Ltd", r"Caf\u00E9 Ltd"),
    ("Müller GmbH", "Müller GmbH", r"M\u00FCller GmbH"),
    ("A+ IT", "A+ IT", r"A\u002B IT"),
    ('The "Best" Co', r"The \"Best\" Co", r"The \u0022Best\u0022 Co"),
    ("O'Brien & Sons <NZ>", "O'Brien & Sons <NZ>", r"O\u0027Brien \u0026 Sons \u003CNZ\u003E"),
    ("Tāmaki `Tech`", "Tāmaki `Tech`", r"T\u0101maki \u0060Tech\u0060"),
    ("Kiwi 🥝 Ltd", "Kiwi 🥝 Ltd", r"Kiwi \uD83E\uDD5D Ltd"),
    ("𠮷野家 Foods", "𠮷野家 Foods", r"\uD842\uDFB7\u91CE\u5BB6 Foods"),
    ("C:\\Share Ltd", r"C:\\Share Ltd", r"C:\\Share Ltd"),
    ("Plain Ltd", "Plain Ltd", "Plain Ltd"),
]

TEMPLATE = ('{"Action":"Update","Guid":"1f0c2d3e-4a5b-6c7d-8e9f-a0b1c2d3e4f5","EntityType":"Company","Id":42,'
            '"Fields":{"CompanyName":"%s"},"EventTime":"2026-11-26T08:00:00Z","SequenceNumber":3,"PersonID":7}')


def published_signature(signed_text: str) -> str:
    return "sha1=" + base64.b64encode(hmac.new(SECRET.encode(), signed_text.encode("utf-8"), hashlib.sha1).digest()
                                      ).decode()


@pytest.mark.parametrize(("name", "delivered", "signed"), VECTORS, ids=[v[0] for v in VECTORS])
def test_a_real_delivery_is_accepted(name: str, delivered: str, signed: str):
    body = (TEMPLATE % delivered).encode("utf-8")
    signature = published_signature(TEMPLATE % signed)
    assert verify_autotask(SECRET, body, signature)
    queued: list[dict] = []
    reply = accept_autotask(body, signature, secret_key=SECRET, enqueue=queued.extend)
    assert reply.status == 200 and len(queued) == 1


@pytest.mark.parametrize(("name", "delivered", "signed"), VECTORS, ids=[v[0] for v in VECTORS])
def test_the_sandbox_signs_like_autotask(name: str, delivered: str, signed: str):
    body = (TEMPLATE % delivered).encode("utf-8")
    assert sandbox_sign(SECRET, body) == published_signature(TEMPLATE % signed)


def test_lower_case_hex_is_not_what_autotask_signs():
    body = (TEMPLATE % "Café Ltd").encode("utf-8")
    assert not verify_autotask(SECRET, body, published_signature(TEMPLATE % r"Caf\u00e9 Ltd"))


def test_a_changed_body_is_refused():
    signature = published_signature(TEMPLATE % r"Caf\u00E9 Ltd")
    assert not verify_autotask(SECRET, (TEMPLATE % "Cafe Ltd").encode(), signature)
    assert not verify_autotask("another-secret", (TEMPLATE % "Café Ltd").encode(), signature)
    assert not verify_autotask(SECRET, (TEMPLATE % "Café Ltd").encode(), None)


def test_characters_outside_strings_are_left_alone():
    """Only string contents are escaped: numbers and structure are hashed as delivered."""
    head = '{"Action":"Update","Guid":"g","EntityType":"Company","Id":42,"SequenceNumber":1e+2,'
    body = head + '"Fields":{"A+":"é"}}'
    signed = head + r'"Fields":{"A\u002B":"\u00E9"}}'
    assert verify_autotask(SECRET, body.encode(), published_signature(signed))
