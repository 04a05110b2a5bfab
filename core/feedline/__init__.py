"""Feedline: self-hostable activity feeds, wire-compatible with Stream's v1.0 REST API.

The package is the shared core that every Lambda function imports. It knows nothing of Lambda,
boto3 or powertools at import time; those live behind ``feedline.api`` and ``feedline.fanout``
and are imported where they are used.
"""

__version__ = "0.1.0"
