"""How PostgreSQL's search chooses between walking the newest rows and gathering a rank from
its GIN indexes: the bounds it takes from the statistics, and the statistics themselves read
from a real, analysed database."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import text

from shutterbox.adapters.db.engine import open_database
from shutterbox.adapters.db.metadata import SqlMetadata
from shutterbox.adapters.db.migrate import upgrade_to_head
from shutterbox.adapters.db.repositories import search_statistics
from shutterbox.adapters.db.repositories.search_postgres import MORE_ROWS, WALK_ROWS, first_walk
from shutterbox.adapters.db.repositories.search_statistics import (
    UNLISTED_FREQUENCY,
    WordFrequencies,
    frequencies_from,
    word_frequencies,
)
from shutterbox.domain.images import Status, Variant
from tests.support.images import make_image

T0 = datetime(2024, 5, 1, 12, 0, 0)

FREQUENCIES = WordFrequencies(
    rows=1_000_000,
    common={"tags": {"sea": 0.3, "sun": 0.01}, "caption": {"sea": 0.1}, "names": {}},
    least={"tags": 0.001, "caption": 0.002, "names": UNLISTED_FREQUENCY},
)


def test_a_listed_word_has_its_share_and_another_the_least_of_its_group():
    assert FREQUENCIES.of("tags", "sea") == 0.3
    assert FREQUENCIES.of("tags", "moon") == 0.001
    assert FREQUENCIES.of("names", "ann") == UNLISTED_FREQUENCY
    assert FREQUENCIES.of("alt_text", "sea") == 1.0  # no statistics: not known


def test_a_rank_is_bounded_by_its_rarest_word_and_its_emptiest_group():
    # one word, one group: its share
    assert FREQUENCIES.rank_bound(("tags",), [("sun",)]) == 0.01
    # one word in either of two groups: at most the sum
    assert abs(FREQUENCIES.rank_bound(("tags", "caption"), [("sea",)]) - 0.1) < 1e-9
    # two words: the rarer bounds it
    assert FREQUENCIES.rank_bound(("tags",), [("sea",), ("moon",)]) == 0.001
    # a prefix stands for its completions, summed; an unknown one for anything
    assert abs(FREQUENCIES.rank_bound(("tags",), [("sea", "sun")]) - 0.31) < 1e-9
    assert FREQUENCIES.rank_bound(("tags",), [()]) == 1.0
    # a group without statistics bounds nothing
    assert FREQUENCIES.rank_bound(("alt_text",), [("sea",)]) == 1.0
    # no rows known: nothing is bounded
    assert WordFrequencies(rows=0).rank_bound(("tags",), [("sun",)]) == 1.0


def test_a_rare_rank_is_gathered_and_a_common_one_walked_as_far_as_it_needs():
    assert first_walk(1.0, 1_000_000, 21) == WALK_ROWS  # not known: the usual first walk
    assert first_walk(0.3, 1_000_000, 21) == WALK_ROWS  # a common word fills it at once
    assert first_walk(0.01, 1_000_000, 21) == 3_150  # 1 %: about 2,100 rows hold 21 hits
    assert first_walk(0.004, 10_000_000, 21) == WALK_ROWS + MORE_ROWS  # at most that far
    assert first_walk(0.004, 1_000_000, 21) is None  # 4,000 rows to gather, not 7,875 to walk
    assert first_walk(0.0002, 1_000_000, 21) is None
    assert first_walk(0.0, 1_000_000, 21) is None


def test_the_statistics_rows_are_read_as_postgresql_keeps_them():
    rows = [
        # a group's words, their shares followed by the least and the most, the table's rows
        ("tags", ["sea", "sun"], [0.3, 0.01, 0.01, 0.3], 5000.0),
        ("caption", None, None, 5000.0),  # analysed, nothing common
    ]
    found = frequencies_from(rows)
    assert found.rows == 5000.0
    assert found.common["tags"] == {"sea": 0.3, "sun": 0.01}
    assert found.least == {"tags": 0.01, "caption": UNLISTED_FREQUENCY}


async def test_an_analysed_database_bounds_a_rare_word_and_not_a_common_one(postgres_url: str):
    db = open_database(postgres_url)
    await upgrade_to_head(db)
    try:
        async with db.writer.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, username, password_hash, is_admin, created_at)"
                    " VALUES (1, 'ann', 'x', false, :at)"
                ),
                {"at": T0},
            )
        metadata = SqlMetadata(db)
        base = make_image(id="", owner_username="ann", status=Status.PROCESSING, created_at=T0)
        thumb = Variant("thumb", "variants/x.jpg", "image/jpeg", 9, 9, 99, "ab" * 32)
        async with metadata.write() as tx:
            for n in range(400):
                image = replace(
                    base,
                    id=f"img{n:04d}",
                    created_at=T0 + timedelta(seconds=n),
                    original_key=f"originals/{n}.jpg",
                    tags=["common", *(["rare"] if n == 7 else [])],
                )
                await tx.images.insert(image)
                await tx.images.save_processed(image.id, {"width": 9}, [thumb])
        async with db.writer.begin() as conn:
            await conn.execute(text("ANALYZE image_search"))
        search_statistics._known.clear()
        async with db.reader.connect() as conn:
            frequencies = await word_frequencies(conn, "test")
        assert frequencies.rows == 400
        assert frequencies.rank_bound(("tags",), [("common",)]) > 0.9
        rare = frequencies.rank_bound(("tags",), [("rare",)])
        assert rare < 0.01
        assert first_walk(rare, frequencies.rows, 21) is None
        assert first_walk(1.0, frequencies.rows, 21) == WALK_ROWS
    finally:
        search_statistics._known.clear()
        await db.dispose()
