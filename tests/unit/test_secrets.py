"""The API secret on AWS: fetched at cold start from Secrets Manager (moto), never from the env."""

from __future__ import annotations

import pytest

from feedline.config import Settings


@pytest.fixture
def secret_in_secrets_manager(monkeypatch):
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        import boto3

        boto3.client("secretsmanager").create_secret(Name="feedline/api-secret", SecretString="s3cr3t-from-sm")
        yield "feedline/api-secret"


def test_secret_fetched_by_name_at_cold_start(secret_in_secrets_manager):
    from feedline.secrets import fetch_secret

    env = {"FEEDLINE_API_KEY": "k", "FEEDLINE_API_SECRET_NAME": secret_in_secrets_manager}
    settings = Settings.from_env(env, fetch_secret=fetch_secret)
    assert settings.app.api_secret == "s3cr3t-from-sm"


def test_local_secret_wins_and_no_fetch_happens():
    def refuse(name: str) -> str:
        raise AssertionError("must not fetch when FEEDLINE_API_SECRET is set")

    env = {"FEEDLINE_API_KEY": "k", "FEEDLINE_API_SECRET": "local", "FEEDLINE_API_SECRET_NAME": "x"}
    assert Settings.from_env(env, fetch_secret=refuse).app.api_secret == "local"


def test_no_secret_at_all_is_a_start_up_error():
    with pytest.raises(RuntimeError, match="FEEDLINE_API_SECRET_NAME"):
        Settings.from_env({"FEEDLINE_API_KEY": "k"})
