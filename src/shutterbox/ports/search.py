"""The search port: images by the words of their details, people by the start of their
username. The rules (words, prefix, ranking) are in ``shutterbox.domain.search``; the SQL
adapter is ``shutterbox.adapters.db.repositories.search``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shutterbox.domain.images import Image
from shutterbox.domain.search import SearchPosition, SearchQuery


@dataclass(frozen=True)
class SearchHit:
    image: Image
    score: int

    @property
    def position(self) -> SearchPosition:
        return SearchPosition(self.score, self.image.created_at, self.image.id)


class SearchRepository(Protocol):
    async def images(
        self,
        query: SearchQuery,
        *,
        viewer_id: int | None,
        after: SearchPosition | None,
        limit: int,
    ) -> list[SearchHit]:
        """Ready, undeleted images matching every word, public or the viewer's own, best
        first (score, then newest), strictly after ``after``."""
        ...

    async def usernames(self, prefix: str, *, limit: int) -> list[str]:
        """Usernames of open accounts that start with ``prefix``, by name (so an exact
        match comes first): one range of the username index."""
        ...

    async def spread_indexes(self) -> list[str]:
        """The word indexes spread over enough pieces to be worth merging into one (SQLite's
        FTS5 segments: ``search_upkeep``); none where indexes keep no pieces."""
        ...

    async def merge_step(self, index: str, pages: int, *, first: bool) -> bool:
        """About ``pages`` pages of merging ``index`` into one piece (``first``: the step
        that starts it); True while work remains."""
        ...
