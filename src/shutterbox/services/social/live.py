"""New notifications for the event stream (``GET /api/v1/events``): each open stream looks for
them in the same read as for its images' status (``images/events.py``), whenever it is woken
(a new notification wakes its recipient's streams: migration 0020), with one seek of the
recipient's index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shutterbox.domain.social import Notification
from shutterbox.ports.metadata import Transaction
from shutterbox.services.social.notifications import UNREAD_COUNTED

# The most told in one read; the rest come with the next one (``more``).
_AT_ONCE = 20


@dataclass(frozen=True)
class NewNotification:
    notification: Notification
    unread: int  # the recipient's unread count with it


class NotificationWatch:
    """One recipient's notifications as one stream last saw them: only those that arrive
    after it connected are told."""

    def __init__(self, recipient_id: int) -> None:
        self.recipient_id = recipient_id
        self._seen: tuple[datetime, str] | None = None
        self.more = False  # the last read left some out: read again without a wake-up

    async def poll_in(self, tx: Transaction) -> list[NewNotification]:
        notifications = tx.notifications
        if self._seen is None:
            latest = await notifications.page(self.recipient_id, before=None, limit=1)
            self._seen = (latest[0].created_at, latest[0].id) if latest else (datetime.min, "")
            return []
        found = await notifications.since(self.recipient_id, self._seen, _AT_ONCE)
        self.more = len(found) == _AT_ONCE
        if not found:
            return []
        self._seen = (found[-1].created_at, found[-1].id)
        unread = await notifications.unread_count(self.recipient_id, at_most=UNREAD_COUNTED)
        return [NewNotification(n, unread) for n in found]
