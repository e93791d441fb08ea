"""The image aggregate: an image row with its variants and tag rows, and the feeds over them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.image_cache import ImageCache
from shutterbox.adapters.db.repositories import timeline
from shutterbox.adapters.db.repositories.image_lists import (
    IMAGES_BY_ID,
    ONE_IMAGE,
    VARIANT_FILES,
    VARIANTS_OF,
    home_list,
    images_list,
    library_list,
    page_parameters,
    trash_list,
)
from shutterbox.adapters.db.repositories.image_upkeep import ImageUpkeep
from shutterbox.adapters.db.rows import image_from_row, image_variants
from shutterbox.adapters.db.tables import image_tags, images, users, variants
from shutterbox.adapters.db.variant_cache import ImageVariants, VariantCache
from shutterbox.clock import utcnow
from shutterbox.domain.images import Image, Status, Variant, Visibility
from shutterbox.ports.metadata import Position, VariantFiles


class SqlImages(ImageUpkeep):
    """``ImageRepository`` on one connection; ``cache``: the process's variant cache."""

    def __init__(
        self,
        conn: AsyncConnection,
        cache: VariantCache | None = None,
        image_cache: ImageCache | None = None,
    ) -> None:
        super().__init__(conn)
        self.cache = cache if cache is not None else VariantCache(capacity=0)
        self.image_cache = image_cache if image_cache is not None else ImageCache(capacity=0)

    async def _attach_variants(self, rows: Sequence[Any]) -> list[Image]:
        """The page's images with their variants: from the cache, or one more query for all
        the images of the page it does not hold."""
        if not rows:
            return []
        cache = self.cache
        known = {row.id: cache.get(row.id, row.processed_at) for row in rows}
        missing: dict[str, list[Variant]] = {i: [] for i, found in known.items() if found is None}
        if missing:
            found = await self.conn.execute(VARIANTS_OF, {"image_ids": list(missing)})
            for image_id, *fields in found.all():  # fetched at once, not a row per call
                missing[image_id].append(Variant(*fields))
            for row in rows:
                if row.id in missing:
                    known[row.id] = fresh = image_variants(missing[row.id])
                    cache.put(row.id, row.processed_at, fresh)
        return [image_from_row(row, known[row.id]) for row in rows]  # type: ignore[arg-type]

    async def get(self, image_id: str) -> Image | None:
        row = (await self.conn.execute(ONE_IMAGE, {"image_id": image_id})).first()
        if row is None:
            return None
        return (await self._attach_variants([row]))[0]

    async def variant_files(self, image_id: str, name: str) -> VariantFiles | None:
        """The light look-up behind every media GET of a variant: one indexed query."""
        parameters = {"image_id": image_id, "name": name}
        rows = (await self.conn.execute(VARIANT_FILES, parameters)).all()
        if not rows:
            return None
        first = rows[0]
        return VariantFiles(
            image_id=image_id,
            owner_id=first.owner_id,
            visibility=Visibility(first.visibility),
            deleted=first.deleted_at is not None,
            last_modified=first.last_modified,
            formats={row.format: Variant(*tuple(row)[4:]) for row in rows if row.key is not None},
        )

    async def find_duplicate(self, owner_id: int, sha256: str) -> Image | None:
        """The owner's live image with exactly these original bytes, if any."""
        parameters = {"owner_id": owner_id, "sha256": sha256}
        image_id = await self.conn.scalar(_DUPLICATE, parameters)
        return await self.get(image_id) if image_id else None

    async def insert(self, image: Image) -> None:
        await _count_stored(self.conn, image.owner_id, image.original_bytes)
        await self.conn.execute(
            _INSERT_IMAGE,
            {
                "id": image.id,
                "owner_id": image.owner_id,
                "status": image.status.value,
                "visibility": image.visibility.value,
                "caption": image.caption,
                "alt_text": image.alt_text,
                "tags": image.tags,
                "location_name": image.location_name,
                "lat": image.lat,
                "lon": image.lon,
                "original_key": image.original_key,
                "original_media_type": image.original_media_type,
                "original_bytes": image.original_bytes,
                "original_sha256": image.original_sha256,
                "original_storage_class": image.original_storage_class.value,
                "created_at": image.created_at,
                "taken_at": image.taken_at,
            },
        )
        if image.tags:
            await self.conn.execute(
                image_tags.insert(),
                [
                    {"image_id": image.id, "tag": t, "created_at": image.created_at}
                    for t in image.tags
                ],
            )

    async def save_processed(
        self, image_id: str, fields: Mapping[str, Any], variants_made: list[Variant]
    ) -> bool:
        """Mark the image ready with its variants; False if it was deleted meanwhile. A new
        ``processed_at`` (now, unless ``fields`` has it) names this set of variants: the
        variant cache keys on it."""
        result = await self.conn.execute(
            update(images)
            .where(images.c.id == image_id, images.c.deleted_at.is_(None))
            .values(
                status=Status.READY.value,
                failure_reason=None,
                **{"processed_at": utcnow(), **fields},
            )
        )
        if result.rowcount != 1:
            return False
        await self.conn.execute(delete(variants).where(variants.c.image_id == image_id))
        await self.conn.execute(
            variants.insert(),
            [
                {
                    "image_id": image_id,
                    "name": v.name,
                    "format": v.format,
                    "key": v.key,
                    "media_type": v.media_type,
                    "width": v.width,
                    "height": v.height,
                    "bytes": v.bytes,
                    "sha256": v.sha256,
                }
                for v in variants_made
            ],
        )
        await timeline.refresh_image(self.conn, image_id)
        return True

    async def mark_failed(self, image_id: str, reason: str, when: datetime) -> None:
        await self.conn.execute(
            update(images)
            .where(images.c.id == image_id, images.c.status != Status.READY.value)
            .values(status=Status.FAILED.value, failure_reason=reason[:500], processed_at=when)
        )

    async def update_details(self, image: Image, values: Mapping[str, Any]) -> bool:
        """Change an undeleted image's columns; new ``tags`` replace its tag rows, which keep
        the image's own created_at (tag pages stay in upload order). False if it was
        deleted."""
        result = await self.conn.execute(
            update(images)
            .where(images.c.id == image.id, images.c.deleted_at.is_(None))
            .values(**values)
        )
        if result.rowcount != 1:
            return False
        if "tags" in values:
            await self.conn.execute(delete(image_tags).where(image_tags.c.image_id == image.id))
            if values["tags"]:
                await self.conn.execute(
                    image_tags.insert(),
                    [
                        {"image_id": image.id, "tag": t, "created_at": image.created_at}
                        for t in values["tags"]
                    ],
                )
        if "visibility" in values:
            await timeline.refresh_image(self.conn, image.id)
        return True

    async def mark_processing_again(self, image_id: str) -> bool:
        """Put a failed, undeleted image back to processing; False if it is not one."""
        result = await self.conn.execute(
            update(images)
            .where(
                images.c.id == image_id,
                images.c.status == Status.FAILED.value,
                images.c.deleted_at.is_(None),
            )
            .values(status=Status.PROCESSING.value, failure_reason=None, processed_at=None)
        )
        return bool(result.rowcount == 1)

    async def mark_deleted(self, image_id: str, when: datetime) -> None:
        await self.conn.execute(
            update(images)
            .where(images.c.id == image_id, images.c.deleted_at.is_(None))
            .values(deleted_at=when)
        )
        await timeline.refresh_image(self.conn, image_id)

    async def mark_deleted_of_owner(self, owner_id: int, when: datetime) -> None:
        await self.conn.execute(
            update(images)
            .where(images.c.owner_id == owner_id, images.c.deleted_at.is_(None))
            .values(deleted_at=when)
        )
        await timeline.forget_owner(self.conn, owner_id)

    async def set_visibility_of(
        self, image_ids: Sequence[str], visibility: Visibility
    ) -> list[Image]:
        if not image_ids:
            return []
        changed = await self.conn.execute(
            update(images)
            .where(
                images.c.id.in_(list(image_ids)),
                images.c.deleted_at.is_(None),
                images.c.visibility != visibility.value,
            )
            .values(visibility=visibility.value)
            .returning(images.c.id)
        )
        ids = [str(image_id) for image_id in changed.scalars().all()]
        if not ids:
            return []
        await timeline.refresh_images(self.conn, ids)
        rows = (await self.conn.execute(IMAGES_BY_ID, {"image_ids": ids})).all()
        return await self._attach_variants(rows)

    async def ids_of_owner(self, owner_id: int) -> list[str]:
        found = await self.conn.execute(select(images.c.id).where(images.c.owner_id == owner_id))
        return [str(image_id) for image_id in found.scalars().all()]

    async def remove(self, image_id: str) -> None:
        row = (
            await self.conn.execute(
                select(images.c.owner_id, images.c.original_bytes).where(images.c.id == image_id)
            )
        ).first()
        if row is None:
            return
        await self.conn.execute(delete(images).where(images.c.id == image_id))
        await _count_stored(self.conn, row.owner_id, -row.original_bytes)

    async def restore_deleted(self, image_id: str, deleted_after: datetime) -> bool:
        """Take an image out of the trash if it went there after ``deleted_after``."""
        result = await self.conn.execute(
            update(images)
            .where(
                images.c.id == image_id,
                images.c.deleted_at.is_not(None),
                images.c.deleted_at > deleted_after,
            )
            .values(deleted_at=None)
        )
        if result.rowcount != 1:
            return False
        await timeline.refresh_image(self.conn, image_id)
        return True

    async def feed(
        self,
        *,
        limit: int,
        cursor: Position | None,
        owner_id: int | None = None,
        tag: str | None = None,
        include_private: bool = False,
        home_of: int | None = None,
        owner_name: str | None = None,
    ) -> list[Image]:
        """Ready, undeleted images, newest first, strictly after ``cursor`` (keyset
        pagination). ``home_of``: that user's own images and the public ones of the people
        they follow; ``owner_name``: an owner given by name. Each form is one seek of an
        index that ends in the page's order."""
        after_cursor = cursor is not None
        if home_of is not None:
            query = home_list(after_cursor=after_cursor)
            parameters = page_parameters(limit, cursor, user_id=home_of)
        else:
            query = images_list(
                owner=owner_id is not None or owner_name is not None,
                tag=tag is not None,
                include_private=include_private,
                after_cursor=after_cursor,
                by_name=owner_name is not None,
            )
            parameters = page_parameters(
                limit, cursor, owner_id=owner_id, tag=tag, owner_name=owner_name
            )
        listed = (await self.conn.execute(query, parameters)).all()
        if home_of is not None:
            return await self._listed_images(listed, lambda i: i.shown_in_home_of(home_of))
        if include_private:
            return await self._listed_images(listed, Image.shown_in_lists)
        return await self._listed_images(listed, Image.shown_in_public_lists)

    async def _listed_images(
        self, listed: Sequence[Any], still_shown: Callable[[Image], bool]
    ) -> list[Image]:
        """The images of a list's (id, version) rows, in order: from the image cache, or one
        query by id for those it lacks. An image read afresh that changed since the list was
        read (a later version) is kept only if the list would still show it."""
        kept = self.image_cache
        found: dict[str, Image] = {}
        missing: list[str] = []
        for image_id, version in listed:
            image = kept.get(image_id, version)
            if image is None:
                missing.append(image_id)
            else:
                found[image_id] = image
        if missing:
            rows = (await self.conn.execute(IMAGES_BY_ID, {"image_ids": missing})).all()
            for image in await self._attach_variants(rows):
                kept.put(image)
                if still_shown(image):
                    found[image.id] = image
        return [found[image_id] for image_id, _ in listed if image_id in found]

    async def list_trash(
        self, owner_id: int, *, limit: int, cursor: Position | None
    ) -> list[Image]:
        """An owner's deleted images still kept, most recently deleted first."""
        query = trash_list(after_cursor=cursor is not None)
        parameters = page_parameters(limit, cursor, owner_id=owner_id)
        return await self._attach_variants((await self.conn.execute(query, parameters)).all())

    async def library_page(
        self, owner_id: int, *, after: Position | None, limit: int
    ) -> list[Image]:
        """The owner's undeleted images in any status, oldest first, after ``after``: one
        range of the (owner_id, created_at, id) index."""
        query = library_list(after_cursor=after is not None)
        parameters = page_parameters(limit, after, owner_id=owner_id)
        rows = (await self.conn.execute(query, parameters)).all()
        return [image_from_row(row, ImageVariants({}, {})) for row in rows]


# Built once: run for every upload (an insert given its values as parameters is compiled
# once per set of columns, where ``.values(...)`` would build a new statement each time).
_INSERT_IMAGE = images.insert()
_DUPLICATE = (
    select(images.c.id)
    .where(
        images.c.owner_id == bindparam("owner_id"),
        images.c.original_sha256 == bindparam("sha256"),
        images.c.deleted_at.is_(None),
    )
    .order_by(images.c.created_at)
    .limit(1)
)
_COUNT_STORED = (
    update(users)
    .where(users.c.id == bindparam("owner_id"))
    .values(stored_bytes=users.c.stored_bytes + bindparam("added"))
)


async def _count_stored(conn: AsyncConnection, owner_id: int, added: int) -> None:
    """Keep ``users.stored_bytes`` (the quota's count) with an image's insert or purge."""
    await conn.execute(_COUNT_STORED, {"owner_id": owner_id, "added": added})
