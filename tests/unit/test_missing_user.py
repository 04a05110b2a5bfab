"""``assemble.missing_user``: the not-found object of a user without a record, written without a dict
encode, is byte for byte what ``not_found`` writes (plain ids, and ids that need escaping)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedline.enrichment.assemble import missing_user, not_found


@pytest.mark.parametrize("user_id", ["u1", "A-9_z", "ünï", "日本", 'a"b', "a\\b", "tab\there", "x" * 200])
def test_missing_user_is_not_found(user_id):
    assert missing_user(user_id) == not_found("SU:" + user_id, "user", user_id)


@given(st.text(min_size=1, max_size=40))
def test_missing_user_is_not_found_for_any_text(user_id):
    assert missing_user(user_id) == not_found("SU:" + user_id, "user", user_id)
