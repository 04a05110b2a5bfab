"""Aggregated and notification feeds (docs/api.md §2.4, §5.3): the compiled aggregation core.

- ``aggregation.template``: ``compile_format(fmt) -> GroupFormat``; ``GroupFormat.render(activity,
  time_us, feed_group, feed_user_id)`` gives the ``group`` key stored with each timeline entry at
  write time. Imports Jinja (its parser validates formats), so import it only where formats are
  rendered (the write/fan-out path), not on the read path.
- ``aggregation.grouping``: ``aggregate(keys, group_keys, actors, cap)`` groups a newest-first
  window at read time (twins ``_group_py`` / ``_group_c``); ``select(...)`` pages the groups.
- ``aggregation.page``: ``assemble_groups(...)`` splices stored bodies into the aggregated response
  (twins ``_page_py`` / ``_page_c``).

Nothing is imported here, so ``import feedline.aggregation.grouping`` stays cheap.
"""
