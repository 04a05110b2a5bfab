"""The API secret on AWS: fetched at cold start from Secrets Manager, never put in the function's
environment (where the configuration API and the console would show it).

``fetch_secret(name)`` uses powertools' parameters utility (its boto3 client is built on first use
and the value cached for ``MAX_AGE_S``, so a warm function asks once per cold start at most every
few minutes). It is handed to ``Settings.from_env`` by the runtime (the composition root); config
itself stays free of AWS imports. Locally the secret comes from ``FEEDLINE_API_SECRET``.
"""

from __future__ import annotations

#: how long powertools keeps a fetched secret before asking Secrets Manager again
MAX_AGE_S = 300


def fetch_secret(name: str) -> str:
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(name, max_age=MAX_AGE_S)
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if not isinstance(value, str) or not value:
        raise RuntimeError(f"secret {name!r} has no string value")
    return value
