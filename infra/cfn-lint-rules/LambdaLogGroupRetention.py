"""Feedline cfn-lint rule: every Lambda function logs to a log group of this template that has a
retention (load with ``--append-rules infra/cfn-lint-rules``).

Without one, Lambda creates ``/aws/lambda/<function>`` on first invocation with "never expire":
unbounded CloudWatch cost, and a group the stack neither owns nor deletes. cfn-lint 1.x validates
SAM resources as written (after merging ``Globals``), so both ``AWS::Serverless::Function`` and
``AWS::Lambda::Function`` are checked.

- E9201: the function's log group is either ``LoggingConfig.LogGroup`` (a ``Ref`` to an
  ``AWS::Logs::LogGroup`` here, or the name of one) or an ``AWS::Logs::LogGroup`` named
  ``/aws/lambda/${Function}`` (``Fn::Sub`` / ``Fn::Join`` on the function's Ref, or its literal
  ``FunctionName``), and that group sets ``RetentionInDays``.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from cfnlint.rules import CloudFormationLintRule, RuleMatch

LOG_GROUP = "AWS::Logs::LogGroup"
FUNCTION = "AWS::Lambda::Function"
SAM_FUNCTION = "AWS::Serverless::Function"


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Ref"), str):
        return value["Ref"]
    return None


def _names_default_group(name_value: Any, function: str, function_name: Any) -> bool:
    """Whether a LogGroupName value is ``/aws/lambda/<function's physical name>``."""
    if isinstance(function_name, str) and name_value == f"/aws/lambda/{function_name}":
        return True
    if isinstance(name_value, dict) and len(name_value) == 1:
        if "Fn::Sub" in name_value:
            sub = name_value["Fn::Sub"]
            text, variables = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1] if len(sub) > 1 else {})
            if not isinstance(text, str):
                return False
            if re.fullmatch(r"/aws/lambda/\$\{" + re.escape(function) + r"\}", text):
                return function not in (variables or {})
            m = re.fullmatch(r"/aws/lambda/\$\{(\w+)\}", text)
            return bool(m and isinstance(variables, dict) and _ref(variables.get(m.group(1))) == function)
        if "Fn::Join" in name_value:
            join = name_value["Fn::Join"]
            if isinstance(join, list) and len(join) == 2 and join[0] == "" and isinstance(join[1], list):
                parts = join[1]
                return len(parts) == 2 and parts[0] == "/aws/lambda/" and _ref(parts[1]) == function
    return False


class LambdaLogGroupWithRetention(CloudFormationLintRule):
    id = "E9201"
    shortdesc = "Every Lambda function has a log group with RetentionInDays in the template"
    description = (
        "Each AWS::Lambda::Function (SAM function) logs to an AWS::Logs::LogGroup of this template "
        "- via LoggingConfig.LogGroup or one named /aws/lambda/${Function} - that sets RetentionInDays."
    )
    source_url = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html"
    tags: ClassVar[list[str]] = ["feedline", "lambda", "logs"]

    def match(self, cfn):
        matches = []
        groups = cfn.get_resources([LOG_GROUP])

        def by_name(value: Any) -> str | None:
            key = json.dumps(value, sort_keys=True)
            for gid, g in groups.items():
                gname = (g.get("Properties") or {}).get("LogGroupName")
                if gname is not None and json.dumps(gname, sort_keys=True) == key:
                    return gid
            return None

        for fn, res in cfn.get_resources([FUNCTION, SAM_FUNCTION]).items():
            props = res.get("Properties")
            if not isinstance(props, dict):
                continue
            path = ["Resources", fn, "Properties"]
            logging = props.get("LoggingConfig")
            target = logging.get("LogGroup") if isinstance(logging, dict) else None
            if target is not None:
                gid = _ref(target)
                if gid is not None and gid not in groups:
                    gid = None  # a Ref to a parameter: a group made elsewhere
                gid = gid or by_name(target)
                if gid is None:
                    matches.append(RuleMatch(
                        path + ["LoggingConfig", "LogGroup"],
                        f"Function {fn} logs to a log group not defined in this template: define it "
                        "as an AWS::Logs::LogGroup with RetentionInDays and Ref it",
                    ))
                    continue
            else:
                gid = next((g for g, r in groups.items() if _names_default_group(
                    (r.get("Properties") or {}).get("LogGroupName"), fn, props.get("FunctionName"))), None)
                if gid is None:
                    matches.append(RuleMatch(
                        path,
                        f"Function {fn} has no log group in this template: Lambda would create "
                        f"/aws/lambda/... with no retention. Add an AWS::Logs::LogGroup with "
                        "RetentionInDays and point LoggingConfig.LogGroup at it (or name it "
                        f"/aws/lambda/${{{fn}}})",
                    ))
                    continue
            if (groups[gid].get("Properties") or {}).get("RetentionInDays") is None:
                matches.append(RuleMatch(
                    ["Resources", gid, "Properties"],
                    f"Log group {gid} (of function {fn}) must set RetentionInDays",
                ))
        return matches
