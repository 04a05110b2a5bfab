"""Aggregated/notification page assembly from stored bytes (switch between the compiled twin and
the pure-Python reference; the contract and output layout are documented in ``_page_py``)."""

from feedline._ext import load

_impl = load("feedline.aggregation._page")

assemble_groups = _impl.assemble_groups

__all__ = ["assemble_groups"]
