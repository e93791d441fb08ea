"""The home feed on SQL is a materialised timeline (fan-out on write); the in-memory fake
computes it by fan-out on read, straight from its definition. Here both live through the
same random history of uploads, follows, unfollows, edits, deletes (one image, or every image
of an owner), visibility changes of many images at once, restores and purges, and
after every step every home reads the same on SQLite and PostgreSQL as on the fake."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from shutterbox.domain.images import Image, Status, Variant, Visibility
from shutterbox.domain.users import User
from shutterbox.ports.metadata import Metadata, WriteTransaction
from tests.support.fakes import FakeMetadata

T0 = datetime(2024, 5, 1, 12, 0, 0)
USERS = ("ann", "ben", "cat", "dan", "eve")


@dataclass(frozen=True)
class Change:
    """One step of the history: what happens, to whom and to which image."""

    action: str
    a: User
    b: User
    image: Image
    at: datetime
    visibility: Visibility

    async def apply(self, tx: WriteTransaction) -> None:
        image, at = self.image, self.at
        if self.action in ("upload", "fail"):
            await tx.images.insert(image)
            if self.action == "fail":
                await tx.images.mark_failed(image.id, "bad bytes", at)
            else:
                await tx.images.save_processed(image.id, {"width": 9}, _variants(image.id))
        elif self.action == "follow":
            await tx.follows.add(self.a.id, self.b.id, at)
        elif self.action == "unfollow":
            await tx.follows.remove(self.a.id, self.b.id)
        elif self.action == "visibility":
            await tx.images.update_details(image, {"visibility": self.visibility.value})
        elif self.action == "delete":
            await tx.images.mark_deleted(image.id, at)
        elif self.action == "restore":
            await tx.images.restore_deleted(image.id, at - timedelta(days=1))
        elif self.action == "purge":
            await tx.images.remove(image.id)
        elif self.action == "close":  # every image of a closed account at once
            await tx.images.mark_deleted_of_owner(image.owner_id, at)
        elif self.action == "visibility_of_many":  # a suspension's step, or its end
            owned = await tx.images.ids_of_owner(image.owner_id)
            await tx.images.set_visibility_of(owned, self.visibility)


@dataclass
class Twins:
    """The same history applied to the SQL adapter and to the reference fake."""

    real: Metadata
    reference: Metadata

    async def apply(self, change: Change) -> None:
        for metadata in (self.real, self.reference):
            async with metadata.write() as tx:
                await change.apply(tx)

    async def homes_agree(self, users: list[User], page: int = 3) -> None:
        for user in users:
            real = await _home(self.real, user, page)
            assert real == await _home(self.reference, user, page), f"{user.username}'s home"


async def _home(metadata: Metadata, user: User, page: int) -> list[str]:
    """Every image id of the user's home, walking the keyset cursor ``page`` at a time."""
    ids: list[str] = []
    cursor = None
    async with metadata.read() as tx:
        while True:
            items = await tx.images.feed(limit=page, cursor=cursor, home_of=user.id)
            ids += [i.id for i in items]
            if len(items) < page:
                return ids
            cursor = (items[-1].created_at, items[-1].id)


def _variants(image_id: str) -> list[Variant]:
    return [Variant("thumb", f"variants/{image_id}-thumb.jpg", "image/jpeg", 9, 9, 99, "ab" * 32)]


async def test_every_home_matches_its_definition_through_a_random_history(sql: Metadata):
    rng = random.Random(20261203)
    twins = Twins(sql, FakeMetadata())
    users: list[User] = []
    for name in USERS:
        made = []
        for metadata in (twins.real, twins.reference):
            async with metadata.write() as tx:
                made.append(await tx.users.create(name, "x", is_admin=False, created_at=T0))
        assert made[0].id == made[1].id
        users.append(made[0])
    images: dict[str, Image] = {}
    clock = T0
    actions = ["upload"] * 3 + ["follow"] * 2 + ["unfollow", "visibility", "delete", "restore"]
    for step in range(160):
        clock += timedelta(seconds=rng.choice([1, 1, 60]))  # ties in created_at happen too
        action = rng.choice([*actions, "purge", "fail", "close", "visibility_of_many"])
        a, b = rng.sample(users, 2)
        if action in ("upload", "fail") or not images:
            action = "fail" if action == "fail" else "upload"
            target = Image(
                id=f"img{step:04d}",
                owner_id=a.id,
                owner_username=a.username,
                status=Status.PROCESSING,
                visibility=rng.choice([Visibility.PUBLIC, Visibility.PUBLIC, Visibility.PRIVATE]),
                created_at=clock,
                original_key=f"originals/{step}.jpg",
                original_media_type="image/jpeg",
                original_bytes=1000,
                original_sha256=f"{step:064d}",
            )
            images[target.id] = target
        else:
            target = rng.choice(list(images.values()))
            if action == "purge":
                del images[target.id]
        visibility = rng.choice(list(Visibility))
        await twins.apply(Change(action, a, b, target, clock, visibility))
        await twins.homes_agree(users)
    # the history was rich enough to mean something: homes show followed people's images
    homes = {u.id: await _home(twins.real, u, 50) for u in users}
    followed = [i for u in users for i in homes[u.id] if images[i].owner_id != u.id]
    assert len(followed) > 20
