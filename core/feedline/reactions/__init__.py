"""Reactions (likes, comments, child reactions, reaction feeds): the room for issue #11.

Lands as the other rooms do: ``store.py`` (the ReactionStore contract, bound to every backend by a
contract suite), ``service.py``, ``routes.py``, and one module per backend under ``storage/``.
"""
