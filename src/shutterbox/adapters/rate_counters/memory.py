"""Rate-limit counters in this process's memory: right for one process, and the fastest."""

from __future__ import annotations

_MAX_KEYS = 100_000  # beyond this, windows that have ended are dropped first


class MemoryRateCounters:
    """``RateCounters`` in a dict: key → (window, hits, when the window ends). Bounded: past
    ``max_keys`` keys the ended windows go, and if every one is current, all of them."""

    def __init__(self, max_keys: int = _MAX_KEYS) -> None:
        self.max_keys = max_keys
        self._windows: dict[str, tuple[int, int, float]] = {}

    async def take(self, key: str, window: int, limit: int, ends_at: float) -> bool:
        seen, hits, _ = self._windows.get(key, (window, 0, ends_at))
        if seen != window:
            hits = 0
        if hits >= limit:
            return False
        if key not in self._windows and len(self._windows) >= self.max_keys:
            period = ends_at / (window + 1)  # windows are numbered from the epoch
            self.forget_ended(before=ends_at - period)
        self._windows[key] = (window, hits + 1, ends_at)
        return True

    async def give_back(self, key: str, window: int) -> None:
        entry = self._windows.get(key)
        if entry is not None and entry[0] == window and entry[1] > 0:
            self._windows[key] = (window, entry[1] - 1, entry[2])

    def forget_ended(self, before: float) -> None:
        """Drop the windows that ended by ``before``; all of them if none had."""
        for key, (_, _, ends_at) in list(self._windows.items()):
            if ends_at <= before:
                del self._windows[key]
        if len(self._windows) >= self.max_keys:  # all current: start over rather than grow
            self._windows.clear()

    def __len__(self) -> int:
        return len(self._windows)

    async def close(self) -> None:
        self._windows.clear()
