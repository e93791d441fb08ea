"""The order of an album's images: gapped positions, where a move writes one row and the album
is renumbered only when a gap runs out."""

from __future__ import annotations

import pytest

from shutterbox.domain.albums import (
    POSITION_GAP,
    check_description,
    check_title,
    position_between,
    renumbered,
)


def test_appending_and_prepending_leave_a_full_gap():
    assert position_between(None, None) == POSITION_GAP
    assert position_between(POSITION_GAP, None) == 2 * POSITION_GAP
    assert position_between(None, POSITION_GAP) == 0
    assert position_between(None, 0) == -POSITION_GAP


def test_a_move_takes_the_middle_until_the_gap_runs_out():
    before, after = POSITION_GAP, 2 * POSITION_GAP
    moves = 0
    while (middle := position_between(before, after)) is not None:
        assert before < middle < after
        after = middle  # always into the same gap: the worst case
        moves += 1
    assert moves == 20  # log2 of the gap: then the album is renumbered, once
    assert position_between(5, 6) is None and position_between(5, 7) == 6


def test_renumbering_restores_the_gaps():
    assert renumbered(3) == [POSITION_GAP, 2 * POSITION_GAP, 3 * POSITION_GAP]
    assert renumbered(0) == []


def test_titles_and_descriptions():
    assert check_title("  Sea  ") == "Sea"
    for bad in ("", "   ", "x" * 201):
        with pytest.raises(ValueError):
            check_title(bad)
    assert check_description(" a ") == "a"
    with pytest.raises(ValueError):
        check_description("x" * 2001)
