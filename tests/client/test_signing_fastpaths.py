"""The signing module's fast checks agree exactly with the slow, path-naming ones."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tplus_cli.client import signing

_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=3),
)
_json: st.SearchStrategy[Any] = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=3), inner, max_size=4),
    ),
    max_leaves=20,
)


def _naive_has_float(obj: object) -> bool:
    if isinstance(obj, float):
        return True
    if isinstance(obj, dict):
        return any(_naive_has_float(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return any(_naive_has_float(v) for v in obj)
    return False


@given(_json)
def test_float_walk_matches_the_recursive_definition(obj: object) -> None:
    assert signing._has_float(obj) is _naive_has_float(obj)
    if _naive_has_float(obj):
        with pytest.raises(signing.SigningError, match="floats are never signed"):
            signing.canonical_json(obj)
    else:
        signing.canonical_json(obj)


@given(st.lists(st.one_of(st.integers(-300, 600), st.booleans(), st.floats(0, 255)), max_size=70))
def test_byte_check_matches_the_per_item_definition(values: list[object]) -> None:
    expected = all(type(b) is int and 0 <= b <= 255 for b in values)  # type: ignore[operator]
    assert signing._are_bytes(values) is expected


def test_a_bad_signature_byte_is_named() -> None:
    bad: list[object] = [1] * 64
    bad[7] = True
    with pytest.raises(signing.SigningError, match=r"signature\[7\]"):
        signing._byte_list(bad, "signature", (64,))
    bad[7] = 256
    with pytest.raises(signing.SigningError, match=r"signature\[7\]"):
        signing._byte_list(bad, "signature", (64,))
    assert signing._byte_list([0, 255] * 32, "signature", (64,)) == [0, 255] * 32
