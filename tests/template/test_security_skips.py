"""`make security` runs checkov on template.yaml (31 passed, 0 failed, 53 skipped when last run): every check a
resource skips says which and why, on the resource itself, where a reviewer of that resource reads it."""

from __future__ import annotations

import re

from autoxero_cli.iam import expanded_template, load_template


def skips(template: dict) -> list[tuple[str, dict]]:
    return [(logical_id, skip) for logical_id, resource in template["Resources"].items()
            for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip") or []]


def test_every_skipped_check_names_a_check_and_gives_a_reason():
    found = skips(load_template())
    assert found, "template.yaml skips no checkov check: then drop this test, or the skips were lost"
    for logical_id, skip in found:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip.get("id", "")), (logical_id, skip)
        assert len(" ".join(str(skip.get("comment", "")).split())) >= 40, (logical_id, skip)


def test_the_skips_reach_the_functions_sam_generates():
    """checkov reads SAM's generated resources too: a function's skips are on its AWS::Serverless::Function, and
    the transform carries Metadata over to the AWS::Lambda::Function checkov sees."""
    source = {logical_id for logical_id, _ in skips(load_template())}
    expanded = {logical_id for logical_id, _ in skips(expanded_template())}
    assert source <= expanded
