"""Analytics events (``/analytics/v1.0/engagement/`` and ``impression/``): what users clicked,
liked and saw, stored as the raw material for personalized ranking.

``store.EventStore`` (the contract; bound to every backend by a contract suite), ``model``
(validation and the canonical stored bytes), ``service.AnalyticsService``, ``routes``.
"""
