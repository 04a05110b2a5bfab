"""Enriched page writing from stored bytes (switch between the compiled twin and the pure-Python
reference; the contract, layout and input checks are documented in ``_enrich_py``)."""

from feedline._ext import load

_impl = load("feedline.enrichment._enrich")

enrich_page = _impl.enrich_page
enrich_bodies = _impl.enrich_bodies
reaction_tails = _impl.reaction_tails
page_tokens = _impl.page_tokens

__all__ = ["enrich_page", "enrich_bodies", "reaction_tails", "page_tokens"]
