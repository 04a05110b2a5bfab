"""Ranking (``?ranking=``): the room for issue #13. Pure computation: score expressions compiled
once, evaluated column by column; it imports no storage (an import-linter contract checks it)."""
