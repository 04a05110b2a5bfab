"""Ranked feeds: Stream's score expressions compiled once, evaluated column by column (docs/ranking.md).

Pure code: no storage, API or service import. The read and write paths use:

- ``parse_methods(group, raw) -> {name: RankingMethod}`` (start-up; ``RankingConfigError``);
- ``FieldLayout.of(methods)``: ``extract(body) -> bytes`` at write time, ``columns(blobs, bodies)``
  or ``scan(bodies)`` at read time;
- ``rank(method, columns, offset=, limit=, now=, ranking_vars=, session=, rowids=, with_vars=)``;
- ``parse_ranking_vars(text)`` (``RankingVarsError`` -> 400) and ``with_score(body, score, vars)``.
"""

from feedline.ranking.config import RankingConfigError, RankingMethod, parse_methods
from feedline.ranking.window import (
    Columns,
    FieldLayout,
    Ranked,
    RankingVarsError,
    parse_ranking_vars,
    rank,
    score_vars,
    seed_for,
    with_score,
)

__all__ = ["RankingConfigError", "RankingMethod", "parse_methods", "Columns", "FieldLayout", "Ranked",
           "RankingVarsError", "parse_ranking_vars", "rank", "score_vars", "seed_for", "with_score"]
