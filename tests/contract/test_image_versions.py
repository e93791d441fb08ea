"""Lists keep images in a per-process cache by row version, and the database raises an
image's version on every update (a trigger): whatever changes an image, in whichever process,
the next list shows the change, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from shutterbox.adapters.db.metadata import SqlMetadata
from shutterbox.adapters.db.tables import images
from shutterbox.domain.images import Image, Status, Variant, Visibility
from tests.support.images import make_image

T0 = datetime(2024, 5, 1, 12, 0, 0)


def _image(n: int, owner_id: int) -> Image:
    return make_image(
        id=f"img{n}",
        owner_id=owner_id,
        owner_username="ann",
        status=Status.PROCESSING,
        created_at=T0.replace(minute=n),
        original_key=f"originals/{n}.jpg",
        original_bytes=1000,
        original_sha256=f"{n:064d}",
    )


def _thumb(image_id: str, generation: int) -> list[Variant]:
    sha = f"{generation:x}" * 64
    return [Variant("thumb", f"v/{image_id}-{generation}.jpg", "image/jpeg", 9, 9, 9, sha)]


async def _version(metadata: SqlMetadata, image_id: str) -> int:
    async with metadata.read() as tx:
        image = await tx.images.get(image_id)
    assert image is not None and image.version is not None
    return image.version


async def _public_feed(metadata: SqlMetadata) -> dict[str, Image]:
    async with metadata.quick_read() as tx:
        return {i.id: i for i in await tx.images.feed(limit=10, cursor=None)}


async def test_every_update_of_an_image_raises_its_version(sql: SqlMetadata) -> None:
    async with sql.write() as tx:
        owner = await tx.users.create("ann", "x", is_admin=False, created_at=T0)
        await tx.images.insert(_image(1, owner.id))
    seen = [await _version(sql, "img1")]
    changes = [  # each one changes the row (tests/contract/test_metadata.py has what they do)
        lambda tx: tx.images.mark_failed("img1", "broken", T0),
        lambda tx: tx.images.mark_processing_again("img1"),
        lambda tx: tx.images.save_processed("img1", {"width": 9}, _thumb("img1", 1)),
        lambda tx: tx.images.update_details(_image(1, owner.id), {"caption": "a lake"}),
        lambda tx: tx.images.update_details(_image(1, owner.id), {"caption": "a lake"}),
        lambda tx: tx.images.mark_deleted("img1", T0),
        lambda tx: tx.images.restore_deleted("img1", datetime(2000, 1, 1)),
        # Any other update, by code that knows nothing of versions:
        lambda tx: tx.connection.execute(
            update(images).where(images.c.id == "img1").values(blurhash="LEHV6n")
        ),
    ]
    for change in changes:
        async with sql.write() as tx:
            await change(tx)
        seen.append(await _version(sql, "img1"))
    assert seen == list(range(len(changes) + 1)), seen  # one step up with each change


async def test_a_list_shows_what_another_process_changed(two_processes) -> None:
    reader, writer = two_processes
    async with writer.write() as tx:
        owner = await tx.users.create("ann", "x", is_admin=False, created_at=T0)
        for n in range(3):
            await tx.images.insert(_image(n, owner.id))
            await tx.images.save_processed(f"img{n}", {"width": 9}, _thumb(f"img{n}", 1))

    first = await _public_feed(reader)
    assert set(first) == {"img0", "img1", "img2"}
    assert len(reader.image_cache) == 3
    again = await _public_feed(reader)
    assert all(again[i] is first[i] for i in first)  # the same objects: from the cache

    async with writer.write() as tx:  # another process edits, hides, reprocesses
        await tx.images.update_details(_image(0, owner.id), {"caption": "new words"})
        await tx.images.update_details(_image(1, owner.id), {"visibility": "private"})
        await tx.images.save_processed("img2", {"width": 9}, _thumb("img2", 2))

    after = await _public_feed(reader)
    assert set(after) == {"img0", "img2"}  # the private one is gone from the public feed
    assert after["img0"].caption == "new words"
    assert after["img2"].variants["thumb"].sha256 == "2" * 64
    async with reader.quick_read() as tx:  # its owner's own list still has it, private
        own = await tx.images.feed(limit=10, cursor=None, owner_id=owner.id, include_private=True)
    assert [i.visibility for i in own if i.id == "img1"] == [Visibility.PRIVATE]

    async with writer.write() as tx:
        await tx.images.mark_deleted("img0", T0)
    assert set(await _public_feed(reader)) == {"img2"}
