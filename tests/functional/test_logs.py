"""Operability: every function logs JSON through powertools' Logger, with the Lambda context and a
correlation id; a failed fan-out record leaves an ERROR line naming its message id."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def invoke(tmp_path, function: str, event: dict) -> tuple[dict, list[dict]]:
    """`feedline invoke` in a fresh process: its result, and the JSON log lines it printed."""
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    env = {"PATH": "/usr/bin:/bin", "FEEDLINE_API_KEY": "k", "FEEDLINE_API_SECRET": "s",
           "FEEDLINE_SQLITE_PATH": str(tmp_path / "logs.db"), "PYTHONWARNINGS": "ignore"}
    out = subprocess.run([sys.executable, "-m", "feedline.cli", "invoke", function, "--event", str(path)], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    # log records are one JSON object a line; the result is printed indented after them
    logs = [json.loads(line) for line in out.stdout.splitlines() if line.startswith('{"level"')]
    result = json.loads("\n".join(line for line in out.stdout.splitlines() if not line.startswith('{"level"')))
    return result, logs


def test_a_poison_fanout_record_is_logged_at_error_with_its_message_id(tmp_path):
    event = json.loads((ROOT / "tests" / "events" / "fanout_sqs.json").read_text())
    event["Records"][0]["body"] = '{"v": 99}'
    event["Records"][0]["messageId"] = "poison-0001"
    result, logs = invoke(tmp_path, "FanoutFunction", event)
    assert result == {"batchItemFailures": [{"itemIdentifier": "poison-0001"}]}
    errors = [r for r in logs if r["level"] == "ERROR" and "fan-out record failed" in r["message"]]
    assert errors, logs
    [line] = errors
    assert line["message_id"] == "poison-0001" and line["correlation_id"] == "poison-0001"
    assert line["service"] == "feedline-fanout" and line["function_name"] == "FanoutFunction"
    assert "BadMessage" in line["message"]
