"""Feedline cfn-lint rules for SQS event sources (load with ``--append-rules infra/cfn-lint-rules``).

cfn-lint 1.x no longer runs the SAM translator: it merges SAM ``Globals`` into the resources and
validates the SAM resources as written. So both forms of an SQS event source are checked: an
``SQS`` event of an ``AWS::Serverless::Function`` and an ``AWS::Lambda::EventSourceMapping`` (plain
CloudFormation, or a SAM-translated template).

- E9101: an SQS event source must report partial batch failures (``FunctionResponseTypes:
  [ReportBatchItemFailures]``, or one bad message makes the whole batch retry) and its queue must
  be defined here with a ``RedrivePolicy`` to a dead-letter queue (or a poison message retries
  forever).
- E9102: the queue's ``VisibilityTimeout`` must be at least 6x the consumer function's ``Timeout``
  (AWS guidance: a message still being processed, or throttled, must not reappear).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, NamedTuple

from cfnlint.rules import CloudFormationLintRule, RuleMatch

SQS_QUEUE = "AWS::SQS::Queue"
ESM = "AWS::Lambda::EventSourceMapping"
FUNCTION = "AWS::Lambda::Function"
SAM_FUNCTION = "AWS::Serverless::Function"
DEFAULT_VISIBILITY_TIMEOUT = 30  # SQS default, seconds
DEFAULT_FUNCTION_TIMEOUT = 3  # Lambda default, seconds
VISIBILITY_FACTOR = 6


def _getatt(value: Any) -> tuple[str, str] | None:
    """``(logical id, attribute)`` of a ``Fn::GetAtt`` (list or dotted-string form)."""
    if isinstance(value, dict) and len(value) == 1 and "Fn::GetAtt" in value:
        att = value["Fn::GetAtt"]
        if isinstance(att, str) and "." in att:
            att = att.split(".", 1)
        if isinstance(att, list) and len(att) == 2 and all(isinstance(a, str) for a in att):
            return att[0], att[1]
    return None


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Ref"), str):
        return value["Ref"]
    return None


def _mentions_sqs(value: Any) -> bool:
    """A literal / Sub / Join ARN that is visibly an SQS queue ARN."""
    return ":sqs:" in json.dumps(value)


class SqsSource(NamedTuple):  # (no dataclass: cfn-lint loads rule files outside sys.modules)
    label: str  # for messages: "FanoutFunction event Queue" / "mapping FanoutMapping"
    path: list  # to the event source's properties
    props: dict
    queue: str | None  # logical id of the queue, None when it is defined outside this template
    function: str | None  # logical id of the consumer, None when outside this template
    function_props: dict


def sqs_event_sources(cfn) -> list[SqsSource]:
    """Every SQS event source: SAM ``SQS`` events and ``AWS::Lambda::EventSourceMapping`` resources.
    Sources whose ARN is a Ref to a parameter cannot be told apart from Kinesis / DynamoDB / MSK
    ones and are skipped."""
    out = []
    queues = cfn.get_resources([SQS_QUEUE])
    functions = cfn.get_resources([FUNCTION, SAM_FUNCTION])

    def queue_of(arn: Any) -> tuple[bool, str | None]:
        att = _getatt(arn)
        if att and att[0] in queues and att[1] == "Arn":
            return True, att[0]
        return _mentions_sqs(arn), None

    for name, res in functions.items():
        if res.get("Type") != SAM_FUNCTION:
            continue
        fprops = res.get("Properties")
        events = fprops.get("Events") if isinstance(fprops, dict) else None
        if not isinstance(events, dict):
            continue
        for ev_name, ev in events.items():
            if not isinstance(ev, dict) or ev.get("Type") != "SQS":
                continue
            props = ev.get("Properties")
            props = props if isinstance(props, dict) else {}
            _, queue = queue_of(props.get("Queue"))  # a SAM SQS event is SQS whatever its Queue value
            out.append(SqsSource(f"{name} event {ev_name}",
                                 ["Resources", name, "Properties", "Events", ev_name, "Properties"],
                                 props, queue, name, fprops))
    for name, res in cfn.get_resources([ESM]).items():
        props = res.get("Properties")
        if not isinstance(props, dict):
            continue
        is_sqs, queue = queue_of(props.get("EventSourceArn"))
        if not is_sqs:
            continue
        fn = props.get("FunctionName")
        target = _ref(fn) or (_getatt(fn) or (None, None))[0]
        fres = functions.get(target) if isinstance(target, str) else None
        out.append(SqsSource(f"event source mapping {name}", ["Resources", name, "Properties"], props, queue,
                             target if fres else None, (fres or {}).get("Properties") or {}))
    return out


def _literal_int(cfn, value: Any) -> int | None:
    """An int from a literal or a Ref to a parameter's Default; None when not knowable."""
    ref = _ref(value)
    if ref is not None:
        param = (cfn.template.get("Parameters") or {}).get(ref)
        value = param.get("Default") if isinstance(param, dict) else None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _redrive(props: dict) -> Any:
    policy = props.get("RedrivePolicy")
    if isinstance(policy, str):  # CloudFormation also takes the JSON as a string
        try:
            policy = json.loads(policy)
        except ValueError:
            return None
    return policy


class SqsConsumerDeadLetterAndBatchFailures(CloudFormationLintRule):
    id = "E9101"
    shortdesc = "SQS event sources report batch item failures and their queue has a DLQ"
    description = (
        "Every SQS event source mapping (SAM SQS event) sets FunctionResponseTypes: "
        "[ReportBatchItemFailures], and its queue is defined in the template with a RedrivePolicy "
        "(deadLetterTargetArn + maxReceiveCount) to a dead-letter queue."
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html"
    tags: ClassVar[list[str]] = ["feedline", "lambda", "sqs"]

    def match(self, cfn):
        matches = []
        queues = cfn.get_resources([SQS_QUEUE])
        for src in sqs_event_sources(cfn):
            types = src.props.get("FunctionResponseTypes")
            if not (isinstance(types, list) and "ReportBatchItemFailures" in types):
                matches.append(RuleMatch(
                    src.path + (["FunctionResponseTypes"] if "FunctionResponseTypes" in src.props else []),
                    f"SQS {src.label} must set FunctionResponseTypes: [ReportBatchItemFailures] "
                    "(the handler returns batchItemFailures; without it one bad message retries the batch)",
                ))
            if src.queue is None:
                matches.append(RuleMatch(
                    src.path,
                    f"SQS {src.label} reads a queue not defined in this template: "
                    "its dead-letter redrive cannot be checked (define the queue here)",
                ))
                continue
            qprops = queues[src.queue].get("Properties") or {}
            redrive = _redrive(qprops) if isinstance(qprops, dict) else None
            if not isinstance(redrive, dict) or not redrive.get("deadLetterTargetArn"):
                matches.append(RuleMatch(
                    ["Resources", src.queue, "Properties"],
                    f"SQS queue {src.queue} (consumed by {src.label}) needs a RedrivePolicy with a "
                    "deadLetterTargetArn: a poison message would otherwise be retried forever",
                ))
            elif redrive.get("maxReceiveCount") is None:
                matches.append(RuleMatch(
                    ["Resources", src.queue, "Properties", "RedrivePolicy"],
                    f"SQS queue {src.queue}: RedrivePolicy needs maxReceiveCount",
                ))
        return matches


class SqsVisibilityTimeoutSixTimesFunction(CloudFormationLintRule):
    id = "E9102"
    shortdesc = "SQS visibility timeout is at least 6x the consumer function's timeout"
    description = (
        "The VisibilityTimeout of a queue feeding a Lambda function is at least six times the "
        "function's Timeout (AWS guidance for SQS event sources)."
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html"
    tags: ClassVar[list[str]] = ["feedline", "lambda", "sqs"]

    def match(self, cfn):
        matches = []
        queues = cfn.get_resources([SQS_QUEUE])
        for src in sqs_event_sources(cfn):
            if src.queue is None or src.function is None:
                continue
            qprops = queues[src.queue].get("Properties") or {}
            visibility = _literal_int(cfn, qprops.get("VisibilityTimeout", DEFAULT_VISIBILITY_TIMEOUT))
            timeout = _literal_int(cfn, src.function_props.get("Timeout", DEFAULT_FUNCTION_TIMEOUT))
            if visibility is None or timeout is None:
                continue
            if visibility < VISIBILITY_FACTOR * timeout:
                path = ["Resources", src.queue, "Properties"]
                matches.append(RuleMatch(
                    path + (["VisibilityTimeout"] if "VisibilityTimeout" in qprops else []),
                    f"SQS queue {src.queue}: VisibilityTimeout {visibility}s is less than "
                    f"{VISIBILITY_FACTOR}x the Timeout of {src.function} ({timeout}s): set it to at least "
                    f"{VISIBILITY_FACTOR * timeout}",
                ))
        return matches
