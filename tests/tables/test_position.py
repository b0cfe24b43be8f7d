from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from aion.tables.position import SourcePosition, advance, first_new, is_new, new_mask


def test_ordering_within_partition():
    assert SourcePosition(0, 5, 3) < SourcePosition(0, 5, 4) < SourcePosition(0, 6, 0)
    assert sorted([SourcePosition(1, 0, 0), SourcePosition(0, 9, 9)])[0].partition == 0


def test_is_new_and_advance():
    last: dict[int, tuple[int, int]] = {}
    p = SourcePosition(2, 10, 3)
    assert is_new(last, p)
    advance(last, p)
    assert not is_new(last, p)
    assert not is_new(last, SourcePosition(2, 10, 2))
    assert not is_new(last, SourcePosition(2, 9, 99))
    assert is_new(last, SourcePosition(2, 10, 4))
    assert is_new(last, SourcePosition(2, 11, 0))
    assert is_new(last, SourcePosition(3, 0, 0))  # other partitions are independent
    advance(last, SourcePosition(2, 9, 0))  # never backwards
    assert last[2] == (10, 3)


def test_new_mask():
    last = {0: (10, 3)}
    assert new_mask(last, 0, 10, 6).tolist() == [False] * 4 + [True] * 2
    assert new_mask(last, 0, 9, 3).tolist() == [False] * 3
    assert new_mask(last, 0, 11, np.array([0, 5])).tolist() == [True, True]
    assert new_mask(last, 1, 0, 2).tolist() == [True, True]


@given(
    st.lists(st.integers(0, 50), unique=True, max_size=20).map(sorted),
    st.integers(0, 3),
    st.tuples(st.integers(0, 3), st.integers(-1, 50)),
)
def test_first_new_matches_mask_and_is_new(indices, offset, prev):
    last = {0: prev}
    mask = new_mask(last, 0, offset, np.array(indices, dtype=np.int64))
    expect = [is_new(last, SourcePosition(0, offset, i)) for i in indices]
    assert mask.tolist() == expect
    k = first_new(last, 0, offset, indices)
    assert expect == [False] * k + [True] * (len(indices) - k)
