"""Reactions: likes, comments and child reactions on activities (spec §2.6, §3.11).

``store.ReactionStore`` (the contract, bound to every backend by
``tests/contract/reaction_store_contract.py``), ``model`` (canonical bytes, ids, validation: pure),
``inputs`` (request bodies as typed values), ``service.ReactionService`` (add with target feeds,
update, soft/hard delete, restore, filtered listings with cursors) and ``routes``.
"""
