"""Follows: edges between feeds (``store.FollowStore``), following with a copy of recent
activities and unfollowing with or without history (``service.FollowService``), ``routes``."""
