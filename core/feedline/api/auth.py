"""Authentication (api key + HS256 JWT) and authorisation (scope claims, user-token policy).

Server tokens carry ``resource`` / ``action`` / ``feed_id`` claims (docs/api.md §2.2-2.3); a request is allowed
when each of its three values equals the claim or the claim is ``*`` (claims may be comma lists).
User tokens carry ``user_id`` and are held to the default policy of docs/api.md §2.2-2.3, configurable per feed
group (``public_read``, ``others_can_target``).

Verified tokens are cached (bounded, honouring ``exp``): clients reuse tokens and PyJWT's decode
costs ~48 µs, a visible share of a read.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

import jwt

from feedline.config import AppConfig
from feedline.errors import ApiKeyException, NotAllowedException, SignatureException

CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Principal:
    claims: dict
    user_id: str | None  # set for user tokens only

    @property
    def is_user(self) -> bool:
        return self.user_id is not None


class Authenticator:
    def __init__(self, app: AppConfig, cache_size: int = CACHE_SIZE):
        self.app = app
        self.cache_size = cache_size
        self._cache: OrderedDict[str, tuple[dict, float | None]] = OrderedDict()

    def authenticate(self, api_key: str | None, token: str | None, auth_type: str | None) -> Principal:
        if not api_key or api_key != self.app.api_key:
            raise ApiKeyException("api_key not found" if api_key else "api_key is missing")
        if not token:
            raise SignatureException("Authorization header is missing (a JWT signed with the api secret)")
        if auth_type is not None and auth_type.lower() != "jwt":
            raise SignatureException(f"stream-auth-type {auth_type!r} is not supported: use jwt")
        claims = self._verify(token)
        user_id = None
        if "resource" not in claims:
            uid = claims.get("user_id")
            if not isinstance(uid, str) or not uid:
                raise SignatureException("token has neither resource/action claims nor a user_id")
            user_id = uid
        return Principal(claims, user_id)

    def _verify(self, token: str) -> dict:
        hit = self._cache.get(token)
        now = time.time()
        if hit is not None:
            claims, exp = hit
            if exp is None or exp > now:
                return claims
            del self._cache[token]
        try:
            claims = jwt.decode(token, self.app.api_secret, algorithms=["HS256"],
                                options={"verify_aud": False, "verify_iat": False})
        except jwt.ExpiredSignatureError:
            raise SignatureException("token has expired") from None
        except jwt.InvalidTokenError as exc:
            raise SignatureException(f"signature is invalid: {exc}") from None
        if not isinstance(claims, dict):
            raise SignatureException("token payload is not an object")
        exp = claims.get("exp")
        self._cache[token] = (claims, float(exp) if isinstance(exp, (int, float)) else None)
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return claims


def _claim_allows(claim: object, value: str) -> bool:
    if claim == "*" or claim == value:
        return True
    if isinstance(claim, str) and "," in claim:
        parts = [p.strip() for p in claim.split(",")]
        return "*" in parts or value in parts
    return False


def authorize(app: AppConfig, who: Principal, resource: str, action: str, feed: str | None) -> None:
    """Raise NotAllowedException unless ``who`` may do ``action`` on ``resource`` (of ``feed``)."""
    if not who.is_user:
        c = who.claims
        feed_claim = "*" if feed is None else feed.replace(":", "")
        if not (_claim_allows(c.get("resource"), resource) and _claim_allows(c.get("action"), action)
                and _claim_allows(c.get("feed_id"), feed_claim)):
            raise NotAllowedException(
                f"token scope (resource={c.get('resource')!r}, action={c.get('action')!r}, "
                f"feed_id={c.get('feed_id')!r}) does not allow {action} on {resource}"
                + (f" of {feed}" if feed else "")
            )
        return
    # user tokens: the default policy of docs/api.md §2.2-2.3
    if feed is None:
        raise NotAllowedException(f"user tokens may not {action} {resource}: use a server token")
    slug, _, owner = feed.partition(":")
    if owner == who.user_id:
        return
    if resource == "feed" and action == "read" and app.group(slug).public_read:
        return
    raise NotAllowedException(f"user {who.user_id!r} may not {action} {resource} of {feed}")


def authorize_targets(app: AppConfig, who: Principal, targets: tuple[str, ...] | list[str]) -> None:
    """User tokens may write to others' feeds via ``to`` only where the group allows it."""
    if not who.is_user:
        return
    for fid in targets:
        slug, _, owner = fid.partition(":")
        if owner != who.user_id and not app.group(slug).others_can_target:
            raise NotAllowedException(f"user {who.user_id!r} may not add activities to {fid}")


def authorize_actor(who: Principal, actor: str) -> None:
    """A user token may only post as itself (its id or its ``SU:`` reference)."""
    if who.is_user and actor not in (who.user_id, f"SU:{who.user_id}"):
        raise NotAllowedException(f"user {who.user_id!r} may not post as actor {actor!r}")
