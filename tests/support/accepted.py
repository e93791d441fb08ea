"""Images accepted through the upload use case itself, for service tests on real stores."""

from __future__ import annotations

import hashlib

from shutterbox.adapters.db.repositories.images import SqlImages
from shutterbox.domain.formats import JPEG
from shutterbox.domain.images import Image
from shutterbox.domain.users import User
from shutterbox.services.context import Services
from shutterbox.services.images import processing, uploads


async def accept_jpeg(services: Services, user: User, data: bytes, *, process: bool) -> Image:
    """Stage ``data`` (a JPEG), accept it as ``user``'s upload and, with ``process``, make its
    variants; the image as stored."""
    digest = hashlib.sha256(data).hexdigest()
    path = services.staging_dir / f"test-{digest[:12]}"
    path.write_bytes(data)
    staged = uploads.StagedFile(path, len(data), digest, JPEG)
    image, _ = await uploads.accept_upload(services, user, staged, uploads.UploadDetails())
    if process:
        await processing.process_image(services, image.id)
    return await stored_image(services, image.id)


async def stored_image(services: Services, image_id: str) -> Image:
    async with services.metadata.db.reader.connect() as conn:
        image = await SqlImages(conn).get(image_id)
    assert image is not None
    return image
