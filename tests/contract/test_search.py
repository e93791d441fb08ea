"""The search port on SQLite (FTS5), PostgreSQL (GIN) and the in-memory fake: the same hits in
the same order, kept right by the database's triggers through every change to an image, and
nothing a viewer may not see. The fake runs ``domain.search.matches``, the reference."""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from alembic import command

from shutterbox.adapters.db import lean_reads
from shutterbox.adapters.db.engine import open_database
from shutterbox.adapters.db.metadata import SqlMetadata
from shutterbox.adapters.db.migrate import alembic_config, upgrade_to_head
from shutterbox.adapters.db.repositories import search_postgres, search_ranks
from shutterbox.domain.images import Image, Status, Variant, Visibility
from shutterbox.domain.search import SearchPosition, parse_query
from shutterbox.domain.users import User
from shutterbox.ports.metadata import Metadata
from tests.support.fakes import FakeMetadata

T0 = datetime(2024, 5, 1, 12, 0, 0)
_serial = itertools.count()


@pytest.fixture(
    params=[
        "sqlite",
        "sqlite-read-exactly",
        "postgresql",
        "postgresql-short-walks",
        "postgresql-gathered",
        "postgresql-direct",
        "memory",
    ]
)
async def metadata(
    request: pytest.FixtureRequest, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Metadata]:
    if request.param == "memory":
        yield FakeMetadata()
        return
    if request.param.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{tmp_path / 'search.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    if request.param == "sqlite-read-exactly":
        # No rows read past the page: every full page is read again exactly, as a page whose
        # last microsecond goes on past the first read is
        monkeypatch.setattr(search_ranks, "SLACK", 0)
    if request.param == "postgresql-short-walks":
        # Walks of a row or two: every rank is walked, walked further and gathered, as a
        # rare rank is among a million rows
        monkeypatch.setattr(search_postgres, "WALK_ROWS", 2)
        monkeypatch.setattr(search_postgres, "MORE_ROWS", 3)
    if request.param == "postgresql-gathered":
        # Every rank gathered at once, as statistics that bound it below a walk's cost say
        monkeypatch.setattr(search_postgres, "first_walk", lambda bound, rows, need: None)
    if request.param == "postgresql-direct":
        # Every statement straight on asyncpg from its first run (``lean_reads``)
        monkeypatch.setattr(lean_reads, "DIRECT_AT_FIRST_SIGHT", True)
    db = open_database(url)
    await upgrade_to_head(db)
    try:
        yield SqlMetadata(db)
    finally:
        await db.dispose()


async def _user(metadata: Metadata, name: str) -> User:
    async with metadata.write() as tx:
        return await tx.users.create(name, "x", is_admin=False, created_at=T0)


async def _image(
    metadata: Metadata, owner: User, *, ready: bool = True, minutes: int | None = None, **fields
) -> str:
    n = next(_serial)
    image = Image(
        id=f"img{n:05d}",
        owner_id=owner.id,
        owner_username=owner.username,
        status=Status.PROCESSING,
        visibility=Visibility.PUBLIC,
        created_at=T0 + timedelta(minutes=n if minutes is None else minutes),
        original_key=f"originals/{n}.jpg",
        original_media_type="image/jpeg",
        original_bytes=1000,
        original_sha256=f"{n:064d}",
    )
    image = replace(image, **fields)
    async with metadata.write() as tx:
        await tx.images.insert(image)
        if ready:
            thumb = Variant("thumb", f"variants/{n}.jpg", "image/jpeg", 9, 9, 99, "ab" * 32)
            assert await tx.images.save_processed(image.id, {"width": 9}, [thumb])
    return image.id


async def _find(
    metadata: Metadata, words: str, viewer: User | None = None, *, limit: int = 100
) -> list[tuple[str, int]]:
    async with metadata.quick_read() as tx:  # as the search service reads
        hits = await tx.search.images(
            parse_query(words), viewer_id=viewer.id if viewer else None, after=None, limit=limit
        )
    return [(hit.image.id, hit.score) for hit in hits]


async def _ids(metadata: Metadata, words: str, viewer: User | None = None) -> list[str]:
    return [image_id for image_id, _ in await _find(metadata, words, viewer)]


async def test_hits_are_ranked_by_the_field_the_words_are_in_then_newest(metadata: Metadata):
    ann = await _user(metadata, "ann")
    alt = await _image(metadata, ann, alt_text="a sunset over roofs")
    place = await _image(metadata, ann, location_name="Sunset Boulevard")
    caption = await _image(metadata, ann, caption="Sunset, at last!")
    tagged = await _image(metadata, ann, tags=["sunset"])
    both = await _image(metadata, ann, tags=["sunset"], caption="the SUNSET")
    older_tagged = await _image(metadata, ann, tags=["sunset", "sea"], minutes=-5)
    await _image(metadata, ann, caption="sunrise")  # another word
    assert await _find(metadata, "sunset") == [
        (both, 12),
        (tagged, 8),
        (older_tagged, 8),
        (caption, 4),
        (place, 2),
        (alt, 1),
    ]


async def test_every_word_must_match_and_the_last_one_as_a_prefix(metadata: Metadata):
    ann = await _user(metadata, "ann")
    bob = await _user(metadata, "bob_the_builder")
    sea_sun = await _image(metadata, ann, tags=["sea"], caption="Sunny day")
    sea = await _image(metadata, ann, caption="the sea", alt_text="waves")
    built = await _image(metadata, bob, caption="a wall", tags=["golden-hour"])
    assert set(await _ids(metadata, "sea")) == {sea_sun, sea}
    assert await _ids(metadata, "sea sun") == [sea_sun]
    assert await _ids(metadata, "sun sea") == []  # "sun" is a whole word unless last
    assert await _ids(metadata, "se") == [sea_sun, sea]  # a tag outranks a caption
    # the owner's username, cut into words like any text; a hyphenated tag likewise
    assert await _ids(metadata, "builder") == [built]
    assert await _ids(metadata, "bob_the_b") == [built]
    assert await _ids(metadata, "golden hour") == [built]
    assert await _ids(metadata, "GOLDEN-Ho") == [built]


async def test_only_what_lists_show_is_found_and_private_only_by_its_owner(metadata: Metadata):
    ann, bob = await _user(metadata, "ann"), await _user(metadata, "bob")
    public = await _image(metadata, ann, caption="secret garden")
    private = await _image(metadata, ann, caption="secret diary", visibility=Visibility.PRIVATE)
    await _image(metadata, ann, caption="secret plan", ready=False)  # still processing
    failed = await _image(metadata, ann, caption="secret failure", ready=False)
    async with metadata.write() as tx:
        await tx.images.mark_failed(failed, "broken", T0)
    assert await _ids(metadata, "secret") == [public]
    assert await _ids(metadata, "secret", bob) == [public]
    assert await _ids(metadata, "secret", ann) == [private, public]


async def test_every_change_to_an_image_is_seen_at_once(metadata: Metadata):
    ann = await _user(metadata, "ann")
    image_id = await _image(metadata, ann, caption="old words", tags=["first"])
    async with metadata.read() as tx:
        image = await tx.images.get(image_id)
    assert image is not None
    async with metadata.write() as tx:
        await tx.images.update_details(
            image, {"caption": "brand new", "tags": ["second"], "location_name": "Lisbon"}
        )
    assert await _ids(metadata, "old") == [] and await _ids(metadata, "first") == []
    for words in ("brand new", "second", "lisbon"):
        assert await _ids(metadata, words) == [image_id], words
    async with metadata.write() as tx:
        await tx.images.update_details(image, {"visibility": Visibility.PRIVATE.value})
    assert await _ids(metadata, "brand") == []
    assert await _ids(metadata, "brand", ann) == [image_id]
    async with metadata.write() as tx:
        await tx.images.update_details(image, {"visibility": Visibility.PUBLIC.value})
        await tx.images.mark_deleted(image_id, T0 + timedelta(days=1))
    assert await _ids(metadata, "brand", ann) == []  # in the trash: gone, for the owner too
    async with metadata.write() as tx:
        assert await tx.images.restore_deleted(image_id, T0)
    assert await _ids(metadata, "brand") == [image_id]
    async with metadata.write() as tx:
        await tx.images.remove(image_id)
    assert await _ids(metadata, "brand", ann) == []


async def test_pages_follow_each_other_without_repeats_or_gaps(metadata: Metadata):
    ann = await _user(metadata, "ann")
    expected = []
    for n in range(23):
        fields = {"tags": ["beach"]} if n % 3 == 0 else {"caption": "beach day"}
        if n % 4 == 0:
            fields["alt_text"] = "beach"
        expected.append(await _image(metadata, ann, minutes=n % 5, **fields))  # equal times
    whole = await _find(metadata, "beach")
    assert {image_id for image_id, _ in whole} == set(expected)
    seen: list[tuple[str, int]] = []
    after: SearchPosition | None = None
    while True:
        async with metadata.read() as tx:
            hits = await tx.search.images(
                parse_query("beach"), viewer_id=None, after=after, limit=4
            )
        if not hits:
            break
        seen += [(hit.image.id, hit.score) for hit in hits]
        after = hits[-1].position
        await _image(metadata, ann, tags=["beach"], minutes=100)  # newer, better: never seen
    assert seen == whole


WORDS = ["sun", "sunset", "sea", "city", "night"]


async def test_pages_match_the_reference_for_mixed_details(metadata: Metadata):
    """Images with the words spread over every field group, some hidden: each query's pages
    (every rank, read in pages of 3) are the reference's (``domain.search.matches``)."""
    ann, ben = await _user(metadata, "ann"), await _user(metadata, "ben")
    rng = random.Random(7)
    reference = FakeMetadata()
    ref_ann, ref_ben = await _user(reference, "ann"), await _user(reference, "ben")
    for n in range(60):
        fields = {
            "tags": rng.sample(WORDS, rng.randint(0, 2)),
            "caption": " ".join(rng.sample(WORDS, rng.randint(0, 2))),
            "alt_text": rng.choice(["", "sea", "the city at night"]),
            "visibility": Visibility.PRIVATE if n % 7 == 0 else Visibility.PUBLIC,
        }
        owner, ref_owner = (ann, ref_ann) if n % 2 else (ben, ref_ben)
        at = n // 3  # three images a minute: ties broken by id
        await _image(metadata, owner, minutes=at, id=f"mix{n:03d}", **fields)
        await _image(reference, ref_owner, minutes=at, id=f"mix{n:03d}", **fields)
    for words in ["sun", "sunset", "sea", "city night", "sea su", "night s", "ann", "ben sea"]:
        for viewer, ref_viewer in [(None, None), (ann, ref_ann)]:
            assert await _pages(metadata, words, viewer) == await _pages(
                reference, words, ref_viewer
            ), words


async def test_a_spread_word_index_is_merged_in_steps_and_finds_the_same(metadata: Metadata):
    """Each image written on its own leaves SQLite's word indexes in many pieces (FTS5
    segments); merged a step at a time, they are one piece and every page is unchanged.
    Elsewhere no index is spread."""
    ann = await _user(metadata, "ann")
    rng = random.Random(11)
    for n in range(60):
        fields = {"tags": rng.sample(WORDS, 2), "caption": " ".join(rng.sample(WORDS, 2))}
        await _image(metadata, ann, minutes=n // 2, id=f"piece{n:03d}", **fields)
    queries = ["sun", "sea su", "night", "ann"]
    before = {words: await _pages(metadata, words, None) for words in queries}
    async with metadata.quick_read() as tx:
        spread = await tx.search.spread_indexes()
    if not isinstance(metadata, SqlMetadata) or not metadata.db.is_sqlite:
        assert spread == []
        return
    assert "image_search_index" in spread
    for index in spread:
        steps, more = 0, True
        while more:
            async with metadata.write() as tx:
                more = await tx.search.merge_step(index, 2, first=steps == 0)
            steps += 1
        assert steps > 1  # two pages a step: the merge took several
    async with metadata.quick_read() as tx:
        assert await tx.search.spread_indexes() == []
    assert {words: await _pages(metadata, words, None) for words in queries} == before
    assert all(before.values())


async def _pages(
    metadata: Metadata, words: str, viewer: User | None, size: int = 3
) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []
    after: SearchPosition | None = None
    while True:
        async with metadata.quick_read() as tx:
            hits = await tx.search.images(
                parse_query(words), viewer_id=viewer.id if viewer else None, after=after, limit=size
            )
        seen += [(hit.image.id, hit.score) for hit in hits]
        if len(hits) < size:
            return seen
        after = hits[-1].position


HOSTILE = [
    '"',
    '""',
    "'",
    "*",
    "sun*",
    "-sun",
    "NOT sun",
    "sun AND",
    "OR",
    "NEAR(sun sea, 2)",
    "caption: sun",
    "{caption tags}: sun",
    "^sun",
    "(sun",
    "sun)",
    "sun & sea | !x",
    "a:* & b",
    "\\",
    "%_",
    "😀 sun",
    "ÉTÉ",
    "日本語",
    "a\x00b",
    "sun\u200bsea",
    "naïve café",
    "12:30",
    "e-mail@example.com",
]


@pytest.mark.parametrize("words", HOSTILE)
async def test_query_syntax_in_a_search_is_only_words(metadata: Metadata, words: str):
    ann = await _user(metadata, "ann")
    await _image(metadata, ann, caption="sun and sea, été à Tōkyō 日本語 naïve café 12:30")
    try:
        query = parse_query(words)
    except ValueError:
        return
    async with metadata.read() as tx:
        await tx.search.images(query, viewer_id=ann.id, after=None, limit=5)


async def test_words_of_other_scripts_and_accents_are_found(metadata: Metadata):
    ann = await _user(metadata, "ann")
    image_id = await _image(metadata, ann, caption="Été à Tōkyō, naïve café", tags=["日本"])
    for words in ("été", "ÉTÉ", "tōkyō", "naïve caf", "日本"):
        assert await _ids(metadata, words) == [image_id], words


async def test_usernames_by_their_start(metadata: Metadata):
    for name in ("anna", "ann", "annie_x", "bob", "an_na", "annxx"):
        await _user(metadata, name)
    closed = await _user(metadata, "annclosed")
    async with metadata.write() as tx:
        await tx.users.close(closed.id)
        found = await tx.search.usernames("ann", limit=10)
    assert found == ["ann", "anna", "annie_x", "annxx"]
    async with metadata.read() as tx:
        assert await tx.search.usernames("an_", limit=10) == ["an_na"]
        assert await tx.search.usernames("ann", limit=2) == ["ann", "anna"]
        assert await tx.search.usernames("zz", limit=10) == []


_BEFORE_SEARCH = """
INSERT INTO users (id, username, password_hash, is_admin, created_at) VALUES
  (1, 'ann', 'x', false, '2024-05-01 12:00:00');
INSERT INTO images (id, owner_id, status, visibility, caption, alt_text, tags, location_name,
  original_key, original_media_type, original_bytes, original_sha256, original_storage_class,
  created_at, deleted_at) VALUES
  ('ready', 1, 'ready', 'public', 'harbour lights', '', '["boats"]', 'Porto', 'o/1',
   'image/jpeg', 1, 'a', 'STANDARD', '2024-05-01 12:00:01', NULL),
  ('trashed', 1, 'ready', 'public', 'harbour', '', '[]', NULL, 'o/2', 'image/jpeg', 1, 'b',
   'STANDARD', '2024-05-01 12:00:02', '2024-05-02 12:00:00'),
  ('waiting', 1, 'processing', 'public', 'harbour', '', '[]', NULL, 'o/3', 'image/jpeg', 1,
   'c', 'STANDARD', '2024-05-01 12:00:03', NULL)
"""


async def test_the_migration_fills_the_search_from_the_images_there(database_url: str):
    db = open_database(database_url)
    try:
        async with db.writer.connect() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0013"))
            for statement in _BEFORE_SEARCH.split(";"):
                await conn.exec_driver_sql(statement)
            await conn.commit()
        await upgrade_to_head(db)
        metadata = SqlMetadata(db)
        for words in ("harbour", "boats", "porto", "ann", "lights harb"):
            assert await _ids(metadata, words) == ["ready"], words
    finally:
        await db.dispose()
