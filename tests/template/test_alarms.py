"""Alarms that can publish: CloudWatch alarms cannot use a topic encrypted with the AWS-managed alias/aws/sns
key; the topic's key must be customer-managed with a key policy letting cloudwatch.amazonaws.com call
kms:Decrypt and kms:GenerateDataKey (https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns), and
every other publisher needs kms:GenerateDataKey* and kms:Decrypt on it in its own policy
(https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html)."""

from __future__ import annotations

import pytest

from autoxero_cli import iam

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC = "arn:aws:sns:us-east-1:123456789012:acme-alerts"


def resources_of(kind: str) -> dict[str, dict]:
    return {k: v for k, v in iam.expanded_template()["Resources"].items() if v["Type"] == kind}


def alarm_topics() -> set[str]:
    topics = set()
    for alarm in resources_of("AWS::CloudWatch::Alarm").values():
        for action in alarm["Properties"].get("AlarmActions", []) + alarm["Properties"].get("OKActions", []):
            topics.add(action["Ref"])
    return topics


def key_allows_cloudwatch(key: dict) -> bool:
    for statement in iam._listed(key["Properties"]["KeyPolicy"]["Statement"]):
        principal = statement.get("Principal", {})
        services = iam._listed(principal.get("Service", [])) if isinstance(principal, dict) else []
        actions = [a.lower() for a in iam._listed(statement["Action"])]
        if (statement["Effect"] == "Allow" and "cloudwatch.amazonaws.com" in services and "Condition" not in statement
                and any(iam._matches(a, "kms:decrypt") for a in actions)
                and any(iam._matches(a, "kms:generatedatakey") for a in actions)):
            return True
    return False


def test_every_alarm_topic_uses_a_key_cloudwatch_may_use():
    topics = alarm_topics()
    assert topics, "no alarm publishes anywhere"
    keys = resources_of("AWS::KMS::Key")
    for topic in topics:
        key = iam.expanded_template()["Resources"][topic]["Properties"].get("KmsMasterKeyId")
        assert isinstance(key, dict) and key.get("Ref") in keys, (
            f"{topic} is encrypted with {key!r}: CloudWatch alarms cannot publish with an AWS-managed key")
        assert key_allows_cloudwatch(keys[key["Ref"]]), f"{key['Ref']}'s policy does not let CloudWatch use it"


@pytest.mark.parametrize("function", sorted(iam.function_roles()))
def test_functions_that_publish_may_use_the_topic_key(function):
    topic = next(iter(alarm_topics()))
    key = iam.expanded_template()["Resources"][topic]["Properties"]["KmsMasterKeyId"]["Ref"]
    resolver = iam.Resolver("acme", {}, {topic: TOPIC, f"{key}.Arn": KEY_ARN, key: KEY_ARN.rsplit("/", 1)[1]})
    policies = iam.policies_for(function, resolver)
    if policies.allows("sns:Publish", TOPIC):
        assert policies.allows("kms:GenerateDataKey", KEY_ARN) and policies.allows("kms:Decrypt", KEY_ARN)
