"""The search port in memory: the rules of ``domain/search.py`` run over the fake's images, so
that its answers are the reference the SQL adapters are held to
(``tests/contract/test_search.py``)."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import TYPE_CHECKING

from shutterbox.domain.images import Image, Visibility
from shutterbox.domain.search import SearchPosition, SearchQuery, matches
from shutterbox.domain.users import CLOSED_ACCOUNT_HASH
from shutterbox.ports.search import SearchHit

if TYPE_CHECKING:
    from tests.support.fakes.metadata import State


class FakeSearch:
    def __init__(self, state: State) -> None:
        self.s = state

    def _fields(self, image: Image) -> dict[str, str]:
        owner = self.s.users[image.owner_id].username
        return {
            "tags": " ".join(image.tags),
            "caption": image.caption,
            "names": f"{owner} {image.location_name or ''}",
            "alt_text": image.alt_text,
        }

    async def images(
        self,
        query: SearchQuery,
        *,
        viewer_id: int | None,
        after: SearchPosition | None,
        limit: int,
    ) -> list[SearchHit]:
        hits: list[SearchHit] = []
        for image in self.s.images.values():
            if not image.shown_in_lists():
                continue
            if image.visibility != Visibility.PUBLIC and image.owner_id != viewer_id:
                continue
            score = matches(query, self._fields(image))
            if score is None:
                continue
            owner = self.s.users[image.owner_id].username
            hits.append(SearchHit(replace(copy.deepcopy(image), owner_username=owner), score))

        def order(hit: SearchHit) -> tuple[int, object, str]:
            return (hit.score, hit.image.created_at, hit.image.id)

        hits.sort(key=order, reverse=True)
        if after is not None:
            cut = (after.score, after.created_at, after.image_id)
            hits = [hit for hit in hits if order(hit) < cut]
        return hits[:limit]

    async def usernames(self, prefix: str, *, limit: int) -> list[str]:
        found = [
            user.username
            for user in self.s.users.values()
            if user.username.startswith(prefix)
            and self.s.password_hashes.get(user.id) != CLOSED_ACCOUNT_HASH
        ]
        return sorted(found)[:limit]

    async def spread_indexes(self) -> list[str]:
        return []  # the fake's search reads the images themselves: no index to keep

    async def merge_step(self, index: str, pages: int, *, first: bool) -> bool:
        raise ValueError(f"not a word index: {index}")
