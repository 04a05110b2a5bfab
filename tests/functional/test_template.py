"""template.yaml: cfn-lint with Feedline's rules, their negative cases, the event files, the layer.

- cfn-lint (a test dependency, never skipped) with ``--append-rules infra/cfn-lint-rules`` passes on
  template.yaml, and each custom rule fails a broken copy generated here from template.yaml.
- tests/events/*.json carry a valid token and drive the real handlers through the template's routes.
- infra/lambda/check_glibc.py is checked on canned objdump output and on a compiled library; on a
  built layer only when FEEDLINE_LAYER_DIR names one (CI sets it after ``sam build``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from cfnlint.decode import decode_str

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
RULES = ROOT / "infra" / "cfn-lint-rules"
EVENTS = ROOT / "tests" / "events"
CHECK_GLIBC = ROOT / "infra" / "lambda" / "check_glibc.py"
OUR_RULES = {"E9101", "E9102", "E9201"}
EVENT_KEY, EVENT_SECRET = "local-key", "local-secret-change-me-for-anything-shared"  # what tests/events/make_events.py signs with
# the brief's local secret is short: PyJWT warns about it, rightly, and that is not under test here
short_secret = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


def cfn_lint(*args: str | Path) -> subprocess.CompletedProcess:
    """The cfn-lint CLI of this interpreter's environment, with Feedline's rules appended."""
    exe = Path(sys.executable).with_name("cfn-lint")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "from cfnlint.runner import main; main()"]
    return subprocess.run([*cmd, "--append-rules", str(RULES), *map(str, args)],
                          check=False, capture_output=True, text=True, cwd=ROOT, timeout=300)


def load_template() -> dict:
    tpl, errors = decode_str(TEMPLATE.read_text())
    assert not errors, errors
    return json.loads(json.dumps(tpl))  # plain dicts / lists


# ---- cfn-lint on the real template ----------------------------------------------------------------

@pytest.mark.slow
def test_custom_rules_are_loaded():
    out = cfn_lint("--list-rules")
    assert out.returncode == 0, out.stderr
    listed = {line.split(":")[0].strip() for line in out.stdout.splitlines()}
    assert OUR_RULES <= listed, out.stdout[-2000:]


@pytest.mark.slow
def test_template_passes_cfn_lint_with_feedline_rules():
    out = cfn_lint("--", TEMPLATE)
    assert out.returncode == 0 and not out.stdout.strip(), out.stdout + out.stderr


# ---- each rule fails a broken copy ----------------------------------------------------------------

def _res(t: dict, name: str) -> dict:
    return t["Resources"][name]["Properties"]


def _fanout_event(t: dict) -> dict:
    return _res(t, "FanoutFunction")["Events"]["Queue"]["Properties"]


def _plain_cfn(*, dlq: bool, log_group: bool, batch_failures: bool, visibility: int) -> dict:
    """A plain CloudFormation (no SAM) consumer: the rules read EventSourceMapping resources too."""
    queue_props: dict = {"VisibilityTimeout": visibility}
    resources: dict = {
        "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": queue_props},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "lambda.amazonaws.com"}}]}}},
        "Consumer": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "python3.11", "Handler": "index.handler", "Timeout": 20,
            "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Code": {"ZipFile": "def handler(event, context):\n    return {'batchItemFailures': []}\n"}}},
        "Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
            "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]}, "FunctionName": {"Ref": "Consumer"},
            "BatchSize": 10}},
    }
    if dlq:
        queue_props["RedrivePolicy"] = {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]},
                                        "maxReceiveCount": 5}
    if batch_failures:
        resources["Mapping"]["Properties"]["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
    if log_group:  # the default group, by name
        resources["ConsumerLogs"] = {"Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": {"Fn::Sub": "/aws/lambda/${Consumer}"}, "RetentionInDays": 14}}
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


def _break(case: str) -> dict:
    t = load_template()
    if case == "queue_without_redrive":
        del _res(t, "FanoutQueue")["RedrivePolicy"]
    elif case == "redrive_without_max_receive":
        del _res(t, "FanoutQueue")["RedrivePolicy"]["maxReceiveCount"]
    elif case == "no_report_batch_item_failures":
        del _fanout_event(t)["FunctionResponseTypes"]
    elif case == "queue_outside_template":
        _fanout_event(t)["Queue"] = {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:other"}
    elif case == "visibility_under_6x_timeout":
        _res(t, "FanoutQueue")["VisibilityTimeout"] = 5 * _res(t, "FanoutFunction")["Timeout"]
    elif case == "function_without_log_group":
        del _res(t, "FanoutFunction")["LoggingConfig"]
        del t["Resources"]["FanoutFunctionLogGroup"]
    elif case == "log_group_without_retention":
        del _res(t, "ReadFunctionLogGroup")["RetentionInDays"]
    elif case == "logging_config_to_foreign_group":
        _res(t, "WriteFunction")["LoggingConfig"]["LogGroup"] = "/shared/lambda-logs"
        del t["Resources"]["WriteFunctionLogGroup"]
    elif case == "plain_cfn_consumer_without_anything":
        t = _plain_cfn(dlq=False, log_group=False, batch_failures=False, visibility=30)
    else:
        raise AssertionError(case)
    return t


BROKEN = {  # case -> the Feedline rules that must fire (and no other of ours)
    "queue_without_redrive": {"E9101"},
    "redrive_without_max_receive": {"E9101"},
    "no_report_batch_item_failures": {"E9101"},
    "queue_outside_template": {"E9101"},
    "visibility_under_6x_timeout": {"E9102"},
    "function_without_log_group": {"E9201"},
    "log_group_without_retention": {"E9201"},
    "logging_config_to_foreign_group": {"E9201"},
    "plain_cfn_consumer_without_anything": {"E9101", "E9102", "E9201"},
}


@pytest.fixture(scope="module")
def broken_results(tmp_path_factory) -> tuple[int, dict[str, list[dict]]]:
    """cfn-lint run once over every broken copy (one process: ~2 s instead of ~2 s per copy)."""
    tmp = tmp_path_factory.mktemp("broken-templates")
    files = {}
    for case in BROKEN:
        path = tmp / f"{case}.json"
        path.write_text(json.dumps(_break(case), indent=1))
        files[path.name] = case
    good = tmp / "plain_cfn_consumer_ok.json"
    good.write_text(json.dumps(_plain_cfn(dlq=True, log_group=True, batch_failures=True, visibility=120)))
    files[good.name] = "plain_cfn_consumer_ok"
    out = cfn_lint("--format", "json", "--", *sorted(tmp.iterdir()))
    assert out.stdout.strip(), out.stderr
    by_case: dict[str, list[dict]] = {case: [] for case in files.values()}
    for m in json.loads(out.stdout):
        by_case[files[Path(m["Filename"]).name]].append(m)
    return out.returncode, by_case


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_rule_fails_a_broken_copy(broken_results, case):
    returncode, by_case = broken_results
    assert returncode & 2, "cfn-lint must exit with the error bit on broken templates"
    fired = {m["Rule"]["Id"] for m in by_case[case]}
    assert fired & OUR_RULES == BROKEN[case], by_case[case]
    assert all(m["Level"] == "Error" for m in by_case[case] if m["Rule"]["Id"] in OUR_RULES)


@pytest.mark.slow
def test_plain_cloudformation_consumer_done_right_passes_our_rules(broken_results):
    _, by_case = broken_results
    assert not [m for m in by_case["plain_cfn_consumer_ok"] if m["Rule"]["Id"] in OUR_RULES]


# ---- what the issue asks of the template, beyond the lint rules -----------------------------------

def test_template_keeps_routes_and_resources_the_local_runner_reads():
    t = load_template()
    for name in ("WriteFunction", "ReadFunction", "FanoutFunction", "FanoutQueue", "FanoutDeadLetterQueue",
                 "CoreLayer", "HttpApi"):
        assert name in t["Resources"], name
    routes = {(ev["Properties"]["Method"], ev["Properties"]["Path"], fn)
              for fn in ("WriteFunction", "ReadFunction")
              for ev in _res(t, fn)["Events"].values() if ev["Type"] == "HttpApi"}
    assert routes == {("GET", "/api/v1.0/{proxy+}", "ReadFunction"),
                      ("POST", "/api/v1.0/{proxy+}", "WriteFunction"),
                      ("PUT", "/api/v1.0/{proxy+}", "WriteFunction"),
                      ("DELETE", "/api/v1.0/{proxy+}", "WriteFunction"),
                      ("POST", "/analytics/v1.0/{proxy+}", "WriteFunction")}


def test_http_api_has_cors_and_throttling():
    api = _res(load_template(), "HttpApi")
    cors = api["CorsConfiguration"]
    assert {"GET", "POST", "PUT", "DELETE"} <= set(cors["AllowMethods"])
    assert {"authorization", "stream-auth-type", "content-type"} <= {h.lower() for h in cors["AllowHeaders"]}
    assert {"ThrottlingRateLimit", "ThrottlingBurstLimit"} <= set(api["DefaultRouteSettings"])


def test_fanout_event_source_settings():
    t = load_template()
    ev = _fanout_event(t)
    assert ev["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 1 <= ev["BatchSize"] <= 10
    assert "MaximumConcurrency" in ev["ScalingConfig"]
    assert _res(t, "FanoutQueue")["VisibilityTimeout"] >= 6 * _res(t, "FanoutFunction")["Timeout"]


def test_environment_has_what_the_runtime_reads_and_no_literal_secret():
    t = load_template()
    env = t["Globals"]["Function"]["Environment"]["Variables"]
    for name in ("FEEDLINE_STORAGE", "FEEDLINE_API_KEY", "FEEDLINE_API_SECRET_NAME", "FEEDLINE_QUEUE",
                 "FEEDLINE_QUEUE_URL", "FEEDLINE_CASSANDRA_HOSTS", "FEEDLINE_CASSANDRA_PORT",
                 "FEEDLINE_CASSANDRA_KEYSPACE", "FEEDLINE_CASSANDRA_DC", "FEEDLINE_CASSANDRA_KEYSPACES",
                 "FEEDLINE_REQUIRE_EXTENSIONS"):
        assert name in env, name
    assert env["FEEDLINE_REQUIRE_EXTENSIONS"] == "1"
    # no typo'd name: every FEEDLINE_* the template sets is one the code reads
    read = set(re.findall(r"FEEDLINE_[A-Z0-9_]+", "".join(
        p.read_text() for p in (ROOT / "core" / "feedline").rglob("*.py"))))
    assert {n for n in env if n.startswith("FEEDLINE_")} - read == set()
    # the secret is fetched at cold start from Secrets Manager: not in the environment, not even as a
    # deploy-time dynamic reference (that would show the value in the function's configuration)
    assert "FEEDLINE_API_SECRET" not in env
    assert "secretsmanager" not in json.dumps(env)
    assert env["FEEDLINE_API_SECRET_NAME"] == {"Ref": "ApiSecretName"}
    for fn in ("WriteFunction", "ReadFunction", "FanoutFunction"):
        policies = json.dumps(_res(t, fn)["Policies"])
        assert "AWSSecretsManagerGetSecretValuePolicy" in policies and "ApiSecretName" in policies, fn
    key_ref = env["FEEDLINE_API_KEY"]["Ref"]
    assert t["Parameters"][key_ref]["Type"].startswith("AWS::SSM::Parameter::Value")


# ---- event files ----------------------------------------------------------------------------------

def _event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


@short_secret
@pytest.mark.parametrize("name", ["add_activity.json", "read_feed.json"])
def test_http_events_carry_a_valid_scope_token(name):
    ev = _event(name)
    assert ev["version"] == "2.0" and ev["queryStringParameters"]["api_key"] == EVENT_KEY
    claims = jwt.decode(ev["headers"]["authorization"], EVENT_SECRET, algorithms=["HS256"])
    assert claims == {"resource": "*", "action": "*", "feed_id": "*"}
    assert ev["headers"]["stream-auth-type"] == "jwt"


@short_secret
def test_events_drive_the_handlers_through_the_template(tmp_path):
    from feedline.config import AppConfig, Settings
    from feedline.local import template
    from feedline.local.runner import LocalStack

    t = template.load(TEMPLATE)
    add, read, fanout = _event("add_activity.json"), _event("read_feed.json"), _event("fanout_sqs.json")
    assert t.match("POST", add["rawPath"])[0].function == "WriteFunction"
    assert t.match("GET", read["rawPath"])[0].function == "ReadFunction"
    assert t.queue_consumer().name == "FanoutFunction"

    stack = LocalStack(t, Settings(app=AppConfig(EVENT_KEY, EVENT_SECRET), sqlite_path=str(tmp_path / "f.db")))
    try:
        added = stack.invoke("WriteFunction", add)
        assert added["statusCode"] == 200, added
        activity = json.loads(added["body"])
        page = stack.invoke("ReadFunction", read)
        assert page["statusCode"] == 200, page
        assert [r["id"] for r in json.loads(page["body"])["results"]] == [activity["id"]]
        message = json.loads(fanout["Records"][0]["body"])
        assert message == {"v": 1, "op": "add", "activity": activity["id"], "source": "user:1"}
        assert stack.invoke("FanoutFunction", fanout) == {"batchItemFailures": []}
    finally:
        stack.close()


# ---- check_glibc.py -------------------------------------------------------------------------------

def _check_glibc_module():
    spec = importlib.util.spec_from_file_location("check_glibc", CHECK_GLIBC)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["check_glibc"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def test_check_glibc_parses_objdump_output():
    mod = _check_glibc_module()
    text = """
0000000000000000      DF *UND*\t0000000000000000 (GLIBC_2.14) memcpy
0000000000000000      DF *UND*\t0000000000000000  GLIBC_2.2.5 free
0000000000000000      DF *UND*\t0000000000000000 (GLIBC_2.27) memfd_create
0000000000000000  w   D  *UND*\t0000000000000000  Base        __gmon_start__
0000000000001120 g    DF .text\t0000000000000010  Base        PyInit__ids_c
"""
    needs = mod.parse_objdump(text)
    assert needs == {(2, 14): {"memcpy"}, (2, 2, 5): {"free"}, (2, 27): {"memfd_create"}}
    assert max(needs) > mod.parse_version("2.26") >= (2, 17)


def test_check_glibc_fails_on_a_library_needing_glibc_2_27(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc or not shutil.which("objdump"):
        pytest.skip("needs a C compiler and binutils to build the sample library")
    src = tmp_path / "new.c"
    src.write_text('#define _GNU_SOURCE\n#include <sys/mman.h>\nint f(void) { return memfd_create("x", 0); }\n')
    lib_dir = tmp_path / "layer" / "python"
    lib_dir.mkdir(parents=True)
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib_dir / "libnew.so"), str(src)], check=True)
    out = subprocess.run([sys.executable, str(CHECK_GLIBC), str(tmp_path / "layer")],
                         check=False, capture_output=True, text=True)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "memfd_create@GLIBC_2.27" in out.stdout
    ok = subprocess.run([sys.executable, str(CHECK_GLIBC), "--max", "2.27", str(tmp_path / "layer")],
                        check=False, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_check_glibc_refuses_a_layer_without_shared_objects(tmp_path):
    out = subprocess.run([sys.executable, str(CHECK_GLIBC), str(tmp_path)], check=False, capture_output=True,
                         text=True)
    assert out.returncode == 2


@pytest.mark.skipif(not os.environ.get("FEEDLINE_LAYER_DIR"),
                    reason="set FEEDLINE_LAYER_DIR to a built layer (e.g. .aws-sam/build/CoreLayer)")
def test_built_layer_needs_at_most_glibc_2_26():
    layer = Path(os.environ["FEEDLINE_LAYER_DIR"])
    out = subprocess.run([sys.executable, str(CHECK_GLIBC), "--max", "2.26", str(layer)],
                         check=False, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    python = layer / "python" if (layer / "python").is_dir() else layer
    so_names = {p.name.split(".")[0] for p in (python / "feedline").rglob("_*_c.*.so")}
    pyx_names = {p.stem for p in (ROOT / "core" / "feedline").rglob("_*_c.pyx")}
    assert so_names == pyx_names, "every compiled twin is in the layer"
    assert not list(python.glob("boto3")) and not list(python.glob("botocore")), "the runtime provides boto3"
    assert list((python / "feedline").rglob("__pycache__/*.cpython-311.pyc")), "the layer ships .pyc"
