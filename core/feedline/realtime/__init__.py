"""Realtime: Stream's ``feed.subscribe()`` — Bayeux (the Faye protocol) over WebSocket and long-polling.

- ``channels``: channel names ``/site-{app_id}-feed-{slug}{user_id}`` <-> feed ids.
- ``messages``: the pushed payload of one feed change, built once per feed.
- ``publisher``: the ``Publisher`` interface the feeds service calls on every placement and removal.
- ``protocol``: the Bayeux server, pure protocol (handshake, connect, subscribe, unsubscribe,
  disconnect) over a ``Sessions`` registry; transports live elsewhere (``local.faye`` for
  ``feedline dev``, ``realtime.aws`` for API Gateway WebSocket APIs).
- ``access``: who may subscribe to a channel (the same token policy as a feed read).
- ``hub``: the in-process registry and publisher of ``feedline dev``.
- ``store``: the subscription store contract of the AWS path (SQLite and Cassandra role modules).
"""
