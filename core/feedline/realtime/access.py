"""Who may subscribe to a feed channel: the subscription's ``ext`` holds the same credentials as a read.

stream-js sends ``ext = {user_id: <channel name without '/'>, api_key, signature: <the feed's
token>}`` with every ``/meta/subscribe``. The token must be valid (``api.auth.Authenticator``) and
allowed to read every feed the channel name fits (``api.auth.authorize``: a server token's
resource/action/feed_id claims, or a user token under the feed group's policy), exactly as a
``GET /feed/{slug}/{user_id}/`` would be.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from feedline.config import AppConfig
from feedline.errors import StreamError
from feedline.realtime.channels import ChannelError, feeds_of

if TYPE_CHECKING:
    from feedline.api.auth import Authenticator


class Refused(Exception):
    """A subscription refused: ``code`` is the Bayeux error code (403 forbidden, 405 bad channel)."""

    def __init__(self, code: int, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


class Access:
    def __init__(self, app: AppConfig, authenticator: Authenticator | None = None):
        self.app = app
        self._authenticator = authenticator

    @property
    def authenticator(self) -> Any:
        # PyJWT (and the crypto it may pull in) on the first subscription, not at cold start
        if self._authenticator is None:
            from feedline.api.auth import Authenticator

            self._authenticator = Authenticator(self.app)
        return self._authenticator

    def check(self, channel: object, ext: object) -> list[str]:
        """The feeds of ``channel`` if ``ext`` may read them all, else ``Refused``."""
        try:
            feeds = feeds_of(self.app, channel)
        except ChannelError as exc:
            raise Refused(405, str(exc)) from None
        if not isinstance(ext, dict):
            raise Refused(403, "the subscription has no ext with api_key and signature")
        named = ext.get("user_id")
        if named is not None and named != str(channel)[1:]:
            raise Refused(403, f"ext.user_id {named!r} is not the channel's name")
        api_key, token = ext.get("api_key"), ext.get("signature")
        if not isinstance(api_key, str) or not isinstance(token, str):
            raise Refused(403, "ext.api_key and ext.signature must be strings")
        from feedline.api.auth import authorize

        try:
            who = self.authenticator.authenticate(api_key, token, None)
            for fid in feeds:
                authorize(self.app, who, "feed", "read", fid)
        except StreamError as exc:
            raise Refused(403, f"{type(exc).__name__}: {exc.detail}") from None
        return feeds
