"""Physical names: the longest each AWS service accepts, and the names CloudFormation makes up when a template
gives none.

A stack name may be up to 128 characters, letters, digits and hyphens, starting with a letter (CreateStack's
StackName: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html). A name built
as `${AWS::StackName}-suffix` can outgrow its service's limit, and the stack then fails to create. A resource
without a name property gets one from CloudFormation instead, `<stack>-<logical id>-<12 random characters>`, with
the stack name and the logical id cut so that it fits the service's limit ("Name type",
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html; the cutting is
IdentifierUtils.generateResourceIdentifier in aws-cloudformation/cloudformation-cli-java-plugin, which shares the
room between the two parts; a Lambda example, stack part cut to fit 64:
https://gist.github.com/christianklotz/468a240a75f4ae3e73bd52722f926acb).
"""

from __future__ import annotations

import hashlib

# The longest stack name CloudFormation accepts (CreateStack, above).
LONGEST_STACK_NAME = 128

# The longest name each service accepts for the resource's own name property, and where AWS says so. None: the
# service documents no limit.
NAME_LIMITS: dict[tuple[str, str], tuple[int | None, str]] = {
    ("AWS::Lambda::Function", "FunctionName"):
        (64, "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html (FunctionName: 64 as a name)"),
    ("AWS::Scheduler::Schedule", "Name"):
        (64, "https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html (Name: 1-64)"),
    ("AWS::SQS::Queue", "QueueName"):
        (80, "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html "
             "(QueueName: up to 80 characters)"),
    ("AWS::IAM::Role", "RoleName"):
        (64, "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html (RoleName: 1-64)"),
    ("AWS::Cognito::UserPool", "UserPoolName"):
        (128, "https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateUserPool.html "
              "(PoolName: 1-128)"),
    ("AWS::Cognito::UserPoolClient", "ClientName"):
        (128, "https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/"
              "API_CreateUserPoolClient.html (ClientName: 1-128)"),
    ("AWS::Cognito::UserPoolDomain", "Domain"):
        (63, "https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/"
             "API_CreateUserPoolDomain.html (Domain: 1-63)"),
    ("AWS::ApiGatewayV2::Api", "Name"):
        (128, "https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis.html (CreateApi's name; "
              "botocore/data/apigatewayv2/*/service-2.json: StringWithLengthBetween1And128)"),
    ("AWS::ApiGateway::RestApi", "Name"):
        (None, "https://docs.aws.amazon.com/apigateway/latest/api/API_CreateRestApi.html (name: a string)"),
    ("AWS::CloudWatch::Alarm", "AlarmName"):
        (255, "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html "
              "(AlarmName: 1-255)"),
    ("AWS::Lambda::LayerVersion", "LayerName"):
        (140, "https://docs.aws.amazon.com/lambda/latest/api/API_PublishLayerVersion.html (LayerName: 140 as a "
              "name)"),
    ("AWS::SNS::Topic", "TopicName"):
        (256, "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html (Name: up to 256 characters)"),
    ("AWS::SecretsManager::Secret", "Name"):
        (512, "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html (Name: 1-512)"),
    ("AWS::Logs::LogGroup", "LogGroupName"):
        (512, "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html "
              "(logGroupName: 1-512)"),
    ("AWS::DynamoDB::Table", "TableName"):
        (255, "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html "
              "(TableName: 3-255)"),
}

SUFFIX_LENGTH = 12


def name_property(kind: str) -> str | None:
    """The property that names a resource of this type (among those NAME_LIMITS knows)."""
    return next((prop for (known, prop) in NAME_LIMITS if known == kind), None)


def limit_of(kind: str) -> int | None:
    prop = name_property(kind)
    return None if prop is None else NAME_LIMITS[(kind, prop)][0]


def generated_name(stack: str, logical_id: str, suffix: str, limit: int | None = None) -> str:
    """The name CloudFormation gives a resource whose template names none: `<stack>-<logical id>-<suffix>`,
    the two first parts sharing what room `limit` leaves (each takes at least half, or all the other leaves)."""
    if limit is None or len(stack) + len(logical_id) + len(suffix) + 2 <= limit:
        return f"{stack}-{logical_id}-{suffix}"
    room = limit - len(suffix) - 2
    stack_part = stack[:max(room // 2, room - len(logical_id))].rstrip("-")
    logical_part = logical_id[:room - len(stack_part)]
    return f"{stack_part}-{logical_part}-{suffix}"


def local_suffix(stack: str, logical_id: str) -> str:
    """A stand-in for CloudFormation's random suffix that stays the same for one stack's resource, so every
    process of a local deployment sees the same names."""
    digest = hashlib.sha256(f"{stack}/{logical_id}".encode()).hexdigest().upper()
    return digest[:SUFFIX_LENGTH]
