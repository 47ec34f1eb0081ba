"""Every Autotask and Xero string reaches a console page escaped: autoescaping is on for every template the
console renders, and no template or console module switches it off for a value (`|safe`, `Markup(...)`,
`{% autoescape false %}`). tests/flows/test_console_routes.py shows hostile names escaped on the pages
themselves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from autoxero.console import web

TEMPLATES = web.HERE / "templates"
HOSTILE = "<img src=x onerror=alert(1)>&\"'"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;&amp;&#34;&#39;"
# Ways a Jinja template or the code around it marks a value as safe HTML, bypassing autoescaping.
UNESCAPED = {
    "the safe filter": re.compile(r"\|\s*safe\b"),
    "an autoescape block turning it off": re.compile(r"\{%-?\s*autoescape\s+(false|False|0)\b"),
    "Markup(...)": re.compile(r"\bMarkup\s*\("),
    "markupsafe": re.compile(r"\bmarkupsafe\b"),
    "__html__": re.compile(r"__html__"),
}


def templates() -> list[Path]:
    found = sorted(TEMPLATES.rglob("*"))
    return [p for p in found if p.is_file()]


def test_every_template_is_html_and_escaped_by_the_environment():
    env = web.environment()
    assert templates(), f"no templates under {TEMPLATES}"
    for path in templates():
        name = path.relative_to(TEMPLATES).as_posix()
        assert path.suffix == ".html", f"{name}: autoescaping is chosen by the .html suffix"
        on = env.autoescape(name) if callable(env.autoescape) else env.autoescape
        assert on is True, f"{name} is rendered without autoescaping"
    assert env.from_string("{{ name }}").render(name=HOSTILE) == ESCAPED  # templates made from strings too


@pytest.mark.parametrize("template", ["refused.html", "signed_out.html"])
def test_a_message_renders_as_text(template):
    page = web.render(template, message=HOSTILE)
    assert ESCAPED in page and "<img src=x" not in page


@pytest.mark.parametrize("path", templates() + sorted((web.HERE).glob("*.py")), ids=lambda p: p.name)
def test_nothing_marks_a_value_as_safe_html(path: Path):
    text = path.read_text()
    found = [what for what, pattern in UNESCAPED.items() if pattern.search(text)]
    assert not found, f"{path.name} uses {', '.join(found)}: a value from Autotask or Xero would reach the page " \
                      "as markup; escape it (the default) instead"
