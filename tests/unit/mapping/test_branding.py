"""Branding theme choice for an invoice (mapping/invoices.py::branding_theme).

Xero's themes in the shared world: "Standard" and "Managed Services". Autotask's invoice templates: 5
"Managed Services", 6 "Custom", 7 "Standard". Each row: branding_by_template, the invoice's and company's
template, and the BrandingThemeID chosen (None: Xero's default theme) or the Problem code.
"""

from __future__ import annotations

import pytest

from autoxero.mapping.common import Unmappable
from autoxero.mapping.invoices import branding_theme

CHOSEN = [
    pytest.param({}, None, None, None, id="no template anywhere: Xero's default theme"),
    pytest.param({}, 5, None, "theme-managed", id="the invoice's template, matched to the theme of its name"),
    pytest.param({}, None, 7, "theme-standard", id="no template on the invoice: the company's"),
    pytest.param({}, 5, 7, "theme-managed", id="the invoice's template wins over the company's"),
    pytest.param({}, 6, None, None, id="a template no theme is named like: Xero's default theme"),
    pytest.param({}, 99, None, None, id="a template the reference data lacks: Xero's default theme"),
    pytest.param({"6": "Managed Services"}, 6, None, "theme-managed", id="a template mapped in settings"),
    pytest.param({"5": "Standard"}, 5, None, "theme-standard", id="the mapping wins over the name match"),
    pytest.param({"7": "Managed Services"}, None, 7, "theme-managed", id="the company's template, mapped"),
]


@pytest.mark.parametrize(("mapping", "invoice_template", "company_template", "expected"), CHOSEN)
def test_branding_theme(context, mapping, invoice_template, company_template, expected):
    ctx = context({"branding_by_template": mapping}, {"invoiceTemplateID": company_template},
                  {"invoiceEditorTemplateID": invoice_template})
    assert branding_theme(ctx) == expected


def test_a_template_mapped_to_a_theme_xero_lacks_stops_the_invoice(context):
    ctx = context({"branding_by_template": {"6": "Bespoke"}}, {}, {"invoiceEditorTemplateID": 6})
    with pytest.raises(Unmappable) as refused:
        branding_theme(ctx)
    assert refused.value.problem.code == "unknown_branding_theme"
