"""Enrichment (``/enrich/feed``, ``/enrich/activities``): the room for issue #12. Reads stored
reference offsets and splices users, collection items, activities and reactions into pages."""
