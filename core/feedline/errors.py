"""Stream-style errors: ``{exception, code, detail, status_code, exception_fields?, duration}``.

Codes and classes follow docs/api.md §3; stream-python maps ``code`` to its exception classes, so a
wrong code is a wrong exception on the client side.
"""

from __future__ import annotations

from typing import Any


def safe_text(text: str) -> str:
    """``text`` with any lone UTF-16 surrogate written as its ``\\udxxx`` escape.

    Error messages quote client input; a lone surrogate (``"\\ud800"`` in the request JSON) has
    no UTF-8 form, so quoted as it is it would break the error response itself.
    """
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class StreamError(Exception):
    code = 1
    exception = "StreamApiException"
    status_code = 500

    def __init__(self, detail: str, fields: dict[str, list[str]] | list | None = None, *,
                 status_code: int | None = None):
        super().__init__(detail)
        self.detail = detail
        self.fields = fields
        if status_code is not None:
            self.status_code = status_code

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "exception": self.exception,
            "code": self.code,
            "detail": safe_text(self.detail),
            "status_code": self.status_code,
        }
        if self.fields:
            out["exception_fields"] = _safe_fields(self.fields)
        return out


def _safe_fields(fields: dict[str, list[str]] | list) -> dict[str, list[str]] | list:
    def clean(v: Any) -> Any:  # one level: fields hold lists of messages
        if isinstance(v, str):
            return safe_text(v)
        return [safe_text(m) if isinstance(m, str) else m for m in v] if isinstance(v, list) else v

    if isinstance(fields, dict):
        return {safe_text(k) if isinstance(k, str) else k: clean(v) for k, v in fields.items()}
    return clean(fields)


class ApiKeyException(StreamError):
    code, exception, status_code = 2, "ApiKeyException", 401


class SignatureException(StreamError):
    code, exception, status_code = 3, "SignatureException", 401


class InputException(StreamError):
    code, exception, status_code = 4, "InputException", 400

    @classmethod
    def field(cls, name: str, message: str) -> InputException:
        return cls(f"Errors for fields '{name}'", {name: [message]})


class CustomFieldException(StreamError):
    code, exception, status_code = 5, "CustomFieldException", 400


class FeedConfigException(StreamError):
    code, exception, status_code = 6, "FeedConfigException", 400


class MissingRankingException(StreamError):
    code, exception, status_code = 12, "MissingRankingException", 400


class RankingException(StreamError):
    """A ranked read failed while scoring (stream-python: ``RankingException``)."""

    code, exception, status_code = 11, "RankingException", 400


class RateLimitReached(StreamError):
    code, exception, status_code = 9, "RateLimitReached", 429


class DoesNotExistException(StreamError):
    code, exception, status_code = 16, "DoesNotExistException", 404


class NotAllowedException(StreamError):
    code, exception, status_code = 17, "NotAllowedException", 403


class ConflictException(StreamError):
    """409: creating what exists (a user id, a collection item id). Stream's clients see the
    status only (stream-js tests assert 409); code 1 maps to their generic exception."""

    code, exception, status_code = 1, "ConflictException", 409


class ServiceUnavailable(StreamError):
    """A dependency (storage, queue) is down: retryable, the request had no partial effect."""

    code, exception, status_code = 1, "ServiceUnavailable", 503


class StorageUnavailable(Exception):
    """Raised by storage backends when the database cannot be reached (mapped to 503)."""
