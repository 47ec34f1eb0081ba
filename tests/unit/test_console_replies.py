"""Where an action sends a person back to, and the signed notice that travels with them."""

from __future__ import annotations

import pytest

from autoxero.console.auth import NOTICE_LIFETIME_SECONDS, Notices, Person
from autoxero.console.replies import back, security_headers

ANNA = Person("anna@msp.example", "sub-anna", ("operator",))
BEN = Person("ben@msp.example", "sub-ben", ("operator",))


@pytest.mark.parametrize("target", ["https://evil.example/console/", "//evil.example/console/", "/elsewhere",
                                    "javascript:alert(1)", "/console\\..\\x", "", None])
def test_back_never_leaves_the_console(target):
    assert back(target) == "/console/"


def test_back_keeps_a_console_page_and_its_filter():
    assert back("/console/attention?flow=contacts") == "/console/attention?flow=contacts"


def test_a_notice_opens_only_for_its_person_and_only_for_a_while():
    now = [1_000_000.0]
    notices = Notices(b"k" * 32, clock=lambda: now[0])
    sealed = notices.seal(ANNA, False, "INV-1 <b>still</b> needs attention")
    assert notices.open(ANNA, sealed) == (False, "INV-1 <b>still</b> needs attention")
    assert notices.open(BEN, sealed) is None
    assert Notices(b"x" * 32, clock=lambda: now[0]).open(ANNA, sealed) is None  # another stack's key
    body, _, mac = sealed.rpartition(".")
    assert notices.open(ANNA, body.replace(".0.", ".1.") + "." + mac) is None  # "refused" cannot become "done"
    now[0] += NOTICE_LIFETIME_SECONDS + 1
    assert notices.open(ANNA, sealed) is None


def test_only_a_plain_http_sign_in_drops_hsts_and_is_named_in_connect_src():
    deployed = security_headers("https://x.auth.eu-west-1.amazoncognito.com")
    assert "connect-src 'self' https://x.auth.eu-west-1.amazoncognito.com;" in deployed["Content-Security-Policy"]
    assert deployed["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    local = security_headers("http://127.0.0.1:8000/_login")
    assert "connect-src 'self' http://127.0.0.1:8000;" in local["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in local
