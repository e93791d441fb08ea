"""The variants of listed images come from a per-process cache keyed by the image and its
``processed_at``: a reprocessed image is never shown with its old variants, whichever process
made the new ones, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from shutterbox.adapters.db.metadata import SqlMetadata
from shutterbox.domain.images import Status, Variant
from tests.support.images import make_image

T0 = datetime(2024, 5, 1, 12, 0, 0)


def _variants(image_id: str, generation: int) -> list[Variant]:
    sha = f"{generation:x}" * 64
    return [
        Variant(name, f"variants/{image_id}-{name}-{generation}.jpg", "image/jpeg", w, w, 9, sha)
        for name, w in (("thumb", 100), ("medium", 800))
    ] + [
        Variant(
            "thumb",
            f"variants/{image_id}-thumb-{generation}.webp",
            "image/webp",
            100,
            100,
            7,
            sha,
            format="webp",
        )
    ]


async def _listed_shas(metadata: SqlMetadata) -> dict[str, set[str]]:
    async with metadata.quick_read() as tx:
        page = await tx.images.feed(limit=10, cursor=None)
    return {i.id: {v.sha256 for v in i.all_variants()} for i in page}


async def test_a_reprocessed_image_is_listed_with_its_new_variants(two_processes):
    reader, processor = two_processes
    async with processor.write() as tx:
        owner = await tx.users.create("ann", "x", is_admin=False, created_at=T0)
        for n in range(3):
            image = make_image(
                id=f"img{n}",
                owner_id=owner.id,
                owner_username="ann",
                status=Status.PROCESSING,
                created_at=T0.replace(minute=n),
                original_key=f"originals/{n}.jpg",
                original_bytes=1000,
                original_sha256=f"{n:064d}",
            )
            await tx.images.insert(image)
            await tx.images.save_processed(image.id, {"width": 9}, _variants(image.id, 1))

    first = await _listed_shas(reader)
    assert first == {f"img{n}": {"1" * 64} for n in range(3)}
    assert len(reader.variant_cache) == 3  # kept for the next page view
    assert await _listed_shas(reader) == first  # now from the cache

    async with processor.write() as tx:  # another process remakes one image's variants
        assert await tx.images.save_processed("img1", {"width": 9}, _variants("img1", 2))

    again = await _listed_shas(reader)
    assert again["img1"] == {"2" * 64}
    assert again["img0"] == again["img2"] == {"1" * 64}
    async with reader.quick_read() as tx:
        listed = {i.id: i for i in await tx.images.feed(limit=10, cursor=None)}
    assert listed["img1"].variant("thumb", "webp").key == "variants/img1-thumb-2.webp"  # type: ignore[union-attr]
    assert set(listed["img1"].variants) == {"thumb", "medium"}
