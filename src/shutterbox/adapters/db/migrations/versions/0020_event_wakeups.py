"""wake-ups of the live-status streams: whenever something a stream reports happens (an image
is added, its status, failure reason or processed time changes, it is deleted or restored; a
notification is added), the database itself says whose streams should look, in the same
transaction

Revision ID: 0020
Revises: 0019

Triggers, not the repositories, say it: an image's status is written from many places (the
upload, the worker, a retry, a reprocess, a give-up, moderation) and notifications from
several services, and a trigger cannot be forgotten by the next one, nor run outside the
writing transaction. On PostgreSQL the triggers ``pg_notify`` the user's id on the
``shutterbox_events`` channel: delivered at commit, never for a rollback, and folded when a
transaction names the same user twice. On SQLite, which has no notifications, they add a
row to ``event_wakeups`` (user id, in commit order: SQLite has one writer), which each API
process's one poller reads from where it left off; the table keeps its newest 10 000 rows
(a trigger drops older ones in the same transaction). On PostgreSQL that table stays empty.

A later migration that rebuilds ``images`` or ``notifications`` on SQLite (batch mode copies
the table) must create the triggers again; tests/contract/test_event_wakeups.py fails if the
head schema lacks them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

CHANNEL = "shutterbox_events"  # adapters/db/event_feeds.py listens on it
KEPT = 10000

# What a stream reports about an image (services/images/events.py compares the first three;
# a stream leaves out deleted images, and tells of a restored one again).
_STATUS_CHANGED = (
    "NEW.status IS NOT OLD.status OR NEW.failure_reason IS NOT OLD.failure_reason"
    " OR NEW.processed_at IS NOT OLD.processed_at OR NEW.deleted_at IS NOT OLD.deleted_at"
)

_SQLITE = [
    """CREATE TRIGGER event_wakeups_image_added AFTER INSERT ON images
    BEGIN INSERT INTO event_wakeups (user_id) VALUES (NEW.owner_id); END""",
    f"""CREATE TRIGGER event_wakeups_image_status
    AFTER UPDATE OF status, failure_reason, processed_at, deleted_at ON images
    FOR EACH ROW WHEN {_STATUS_CHANGED}
    BEGIN INSERT INTO event_wakeups (user_id) VALUES (NEW.owner_id); END""",
    """CREATE TRIGGER event_wakeups_notification AFTER INSERT ON notifications
    BEGIN INSERT INTO event_wakeups (user_id) VALUES (NEW.recipient_id); END""",
    f"""CREATE TRIGGER event_wakeups_kept AFTER INSERT ON event_wakeups
    BEGIN DELETE FROM event_wakeups WHERE seq <= NEW.seq - {KEPT}; END""",
]
_SQLITE_TRIGGERS = (
    "event_wakeups_image_added",
    "event_wakeups_image_status",
    "event_wakeups_notification",
    "event_wakeups_kept",
)

_POSTGRESQL = [
    f"""CREATE FUNCTION event_wakeups_owner() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', NEW.owner_id::text);
    RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    f"""CREATE FUNCTION event_wakeups_recipient() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', NEW.recipient_id::text);
    RETURN NULL;
END
$$ LANGUAGE plpgsql""",
    """CREATE TRIGGER event_wakeups_image_added AFTER INSERT ON images
    FOR EACH ROW EXECUTE FUNCTION event_wakeups_owner()""",
    f"""CREATE TRIGGER event_wakeups_image_status
    AFTER UPDATE OF status, failure_reason, processed_at, deleted_at ON images
    FOR EACH ROW WHEN ({_STATUS_CHANGED.replace("IS NOT", "IS DISTINCT FROM")})
    EXECUTE FUNCTION event_wakeups_owner()""",
    """CREATE TRIGGER event_wakeups_notification AFTER INSERT ON notifications
    FOR EACH ROW EXECUTE FUNCTION event_wakeups_recipient()""",
]
_POSTGRESQL_TRIGGERS = {
    "event_wakeups_image_added": "images",
    "event_wakeups_image_status": "images",
    "event_wakeups_notification": "notifications",
}


def upgrade() -> None:
    op.create_table(
        "event_wakeups",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
    )
    statements = _POSTGRESQL if op.get_bind().dialect.name == "postgresql" else _SQLITE
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for trigger, table in _POSTGRESQL_TRIGGERS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS event_wakeups_owner()")
        op.execute("DROP FUNCTION IF EXISTS event_wakeups_recipient()")
    else:
        for trigger in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.drop_table("event_wakeups")
