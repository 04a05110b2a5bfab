"""The demo's small world, written through the Stream API with stream-python (as a Stream app's
back end would): four users with names and avatars, follows, posts with ``SU:`` actors, likes and
comments (reactions), and notifications (a follow, and the reactions' ``target_feeds``).

``seed(client, avatar_base)`` returns what it wrote, so the browser test can check the page
against it; ``python seed.py API_URL AVATAR_BASE`` seeds a running stack with the local credentials.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import Any

#: id -> (name, occupation, colour of the avatar)
USERS = {
    "alice": ("Alice Park", "Editor", "#4f7cff"),
    "bob": ("Bob Martins", "Climber", "#e0653a"),
    "carol": ("Carol Nguyen", "Baker", "#2fa37a"),
    "dave": ("Dave Okafor", "Drummer", "#9b59b6"),
}
#: whose timeline follows whose user feed (everyone's timeline follows their own posts too)
FOLLOWS = {
    "alice": ["bob", "carol"],
    "bob": ["alice", "carol"],
    "carol": ["alice", "bob", "dave"],
    "dave": ["carol"],
}
#: (author, text, minutes ago)
POSTS = [
    ("carol", "Sourdough number 37: finally an open crumb.", 95),
    ("bob", "Sent my first 7a this morning at the old quarry.", 80),
    ("alice", "Reading week: three essays on feeds, and why ranking is editorial.", 60),
    ("dave", "New practice pads arrived. The neighbours are thrilled.", 45),
    ("bob", "Anyone up for the river path on Saturday?", 30),
    ("carol", "Rye and caraway today. Recipe in the comments.", 15),
]
#: (who, kind, index into POSTS, text of a comment)
REACTIONS = [
    ("alice", "like", 1, None),
    ("carol", "like", 1, None),
    ("bob", "like", 2, None),
    ("carol", "comment", 2, "Send me the list, please!"),
    ("alice", "comment", 4, "Count me in."),
    ("alice", "like", 5, None),
    # a thread longer than the kit shows at first (5): its "Load more" follows latest_reactions_extra's next link
    ("carol", "comment", 5, "200 g rye, 300 g bread flour, 2 tsp caraway."),
    ("carol", "comment", 5, "Levain at 20%, 75% water, overnight in the fridge."),
    ("dave", "comment", 5, "Bring some to practice?"),
    ("alice", "comment", 5, "Caraway is underrated."),
    ("carol", "comment", 5, "Bake at 230 degrees for 40 minutes, lid on for the first 20."),
    ("bob", "comment", 5, "Saving this one."),
    ("dave", "comment", 5, "Made it. The neighbours forgave the drums."),
]


def avatar_url(base: str, user: str) -> str:
    return f"{base.rstrip('/')}/avatars/{user}.svg"


def seed(client: Any, avatar_base: str) -> dict[str, Any]:
    """Writes the world; returns the posts (id, author, text) and the reactions per post."""
    for uid, (name, occupation, _) in USERS.items():
        client.users.add(uid, {"name": name, "occupation": occupation, "profileImage": avatar_url(avatar_base, uid)},
                         get_or_create=True)
    for uid, followed in FOLLOWS.items():
        timeline = client.feed("timeline", uid)
        for target in [uid, *followed]:
            timeline.follow("user", target, activity_copy_limit=100)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    posts = []
    for i, (author, text, ago) in enumerate(POSTS):
        activity = client.feed("user", author).add_activity({
            # the object is the text, as the kit's own post box writes it (its attached-activity view shows it)
            "actor": f"SU:{author}", "verb": "post", "object": text, "text": text,
            "foreign_id": f"post:{i}", "time": (now - dt.timedelta(minutes=ago)).isoformat(),
        })
        posts.append({"id": activity["id"], "author": author, "name": USERS[author][0], "text": text})
    for who, kind, index, text in REACTIONS:
        post = posts[index]
        # the author hears of it in their notification feed, as Stream apps do with target_feeds
        targets = [f"notification:{post['author']}"] if post["author"] != who else []
        client.reactions.add(kind, post["id"], who, data={"text": text} if text else None, target_feeds=targets)
        post.setdefault("reactions", []).append({"user": who, "kind": kind, "text": text})
    # a follow notification: dave now follows alice
    client.feed("timeline", "dave").follow("user", "alice")
    client.feed("notification", "alice").add_activity(
        {"actor": "SU:dave", "verb": "follow", "object": "SU:alice", "foreign_id": "follow:dave:alice"})
    return {"posts": posts, "users": {uid: USERS[uid][0] for uid in USERS}}


def main(argv: list[str]) -> int:
    import stream

    api_url, avatar_base = argv[1], argv[2]
    key = os.environ.get("FEEDLINE_API_KEY", "local-key")
    secret = os.environ.get("FEEDLINE_API_SECRET", "local-secret-change-me-for-anything-shared")
    print(json.dumps(seed(stream.connect(key, secret, base_url=api_url), avatar_base), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
