"""SQLAlchemy Core tables: one schema for SQLite and PostgreSQL. No image bytes here."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata: MetaData = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users: Table = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(30), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
    # the bytes of the user's originals (live and in the trash), kept with every insert and
    # purge of an image, so that the quota check reads one row
    Column("stored_bytes", BigInteger, nullable=False, server_default="0"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("revoked_at", DateTime, nullable=True),
)

images: Table = Table(
    "images",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("failure_reason", Text, nullable=True),
    Column("visibility", String(16), nullable=False),
    Column("caption", Text, nullable=False, default=""),
    Column("alt_text", Text, nullable=False, server_default=""),
    Column("tags", JSON, nullable=False),
    Column("location_name", String(200), nullable=True),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("width", Integer, nullable=True),
    Column("height", Integer, nullable=True),
    Column("taken_at", DateTime, nullable=True),
    Column("camera_make", String(100), nullable=True),
    Column("camera_model", String(100), nullable=True),
    Column("lens", String(100), nullable=True),
    Column("exposure_time", String(20), nullable=True),
    Column("f_number", Float, nullable=True),
    Column("iso", Integer, nullable=True),
    Column("focal_length_mm", Float, nullable=True),
    Column("blurhash", String(100), nullable=True),
    Column("dominant_color", String(7), nullable=True),
    Column("frames", Integer, nullable=False, server_default="1"),  # 1: a still picture
    Column("original_key", String(300), nullable=False),
    Column("original_media_type", String(50), nullable=False),
    Column("original_bytes", BigInteger, nullable=False),
    Column("original_sha256", String(64), nullable=False),
    Column("original_storage_class", String(20), nullable=False, server_default="STANDARD"),
    Column("original_restore_requested_at", DateTime, nullable=True),
    Column("original_restored_until", DateTime, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("processed_at", DateTime, nullable=True),
    Column("deleted_at", DateTime, nullable=True),
    # Raised by a trigger on every update (migration 0012): an image kept by version is current.
    Column("version", Integer, nullable=False, server_default="0"),
    Index("ix_images_owner", "owner_id", "created_at", "id"),
    Index("ix_images_owner_sha256", "owner_id", "original_sha256"),
    Index("ix_images_deleted", "deleted_at"),
    Index("ix_images_processed", "processed_at"),  # how fast images became ready lately
    Index("ix_images_owner_status", "owner_id", "status"),
    Index("ix_images_class_age", "original_storage_class", "created_at"),
)

# The list queries' indexes: each is an equality prefix then the (created_at, id) keyset order,
# over undeleted rows only (a partial index), so a page is one index seek and a count one
# range of the index, whatever the table's size. tests/integration/test_query_plans.py reads
# the plans on SQLite and PostgreSQL.
_LIVE = images.c.deleted_at.is_(None)
for _name, _columns in (
    ("ix_images_feed", ("status", "visibility")),  # the public feed
    ("ix_images_owner_feed", ("owner_id", "status", "visibility")),  # a profile, seen by others
    ("ix_images_owner_ready", ("owner_id", "status")),  # one's own profile, private ones too
):
    _keyset = [images.c[column] for column in (*_columns, "created_at", "id")]
    Index(_name, *_keyset, sqlite_where=_LIVE, postgresql_where=_LIVE)
# the trash: an owner's deleted images, most recently deleted first
_TRASHED = images.c.deleted_at.is_not(None)
Index(
    "ix_images_trash",
    images.c.owner_id,
    images.c.deleted_at,
    images.c.id,
    sqlite_where=_TRASHED,
    postgresql_where=_TRASHED,
)

variants = Table(
    "variants",
    metadata,
    Column("image_id", String(32), ForeignKey("images.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(20), primary_key=True),
    Column("format", String(10), primary_key=True, default="jpeg"),
    Column("key", String(300), nullable=False),
    Column("media_type", String(50), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("storage_class", String(20), nullable=False, server_default="STANDARD"),
)

image_tags = Table(
    "image_tags",
    metadata,
    Column("image_id", String(32), ForeignKey("images.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(50), primary_key=True),
    Column("created_at", DateTime, nullable=False),
    Index("ix_image_tags_tag", "tag", "created_at", "image_id"),
)

follows = Table(
    "follows",
    metadata,
    Column("follower_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("followee_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", DateTime, nullable=False),
    # The usernames, copied (they never change): the lists of whom one follows and who follows
    # one are in username order, each one seek of an index below.
    Column("follower_name", String(30), nullable=False, server_default=""),
    Column("followee_name", String(30), nullable=False, server_default=""),
    Index("ix_follows_followee", "followee_id"),
    Index("ix_follows_following_names", "follower_id", "followee_name"),
    Index("ix_follows_follower_names", "followee_id", "follower_name"),
)

home_timeline = Table(
    "home_timeline",
    metadata,
    # Fan-out on write: a row per (home, image) for every image a home shows: the user's own
    # ready images and the public ready ones of the people they follow. The home feed is one
    # seek of the primary key. Kept by adapters/db/repositories/timeline.py.
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", DateTime, primary_key=True),
    Column("image_id", String(32), ForeignKey("images.id", ondelete="CASCADE"), primary_key=True),
    Column("owner_id", Integer, nullable=False),
    Index("ix_home_timeline_image", "image_id"),
    Index("ix_home_timeline_owner", "user_id", "owner_id"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("image_id", String(32), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

direct_uploads = Table(
    "direct_uploads",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(300), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("completing_at", DateTime, nullable=True),
    Column("completed_at", DateTime, nullable=True),
    Column("image_id", String(32), nullable=True),
    # A resumable (tus) upload: bytes received so far, the parts they are stored in
    # ([offset, size, key], in order) and the image details it was started with. NULL for a
    # one-shot upload to a presigned URL.
    Column("received", BigInteger, nullable=True),
    Column("parts", JSON, nullable=True),
    Column("details", JSON, nullable=True),
    # An S3 multipart upload straight to the bucket: its id there (``details`` then holds
    # the declared SHA-256 and the part size).
    Column("multipart_id", String(300), nullable=True),
    Index("ix_direct_uploads_expiry", "completed_at", "expires_at"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("image_id", String(32), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("run_at", DateTime, nullable=False),
    Column("lease_expires_at", DateTime, nullable=True),
    Column("worker_id", String(100), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("lane", Integer, nullable=False, server_default="0"),  # domain.jobs.Lane
    Column("batch_id", String(32), nullable=True),  # batches.id, for a batch's jobs
    # the next job to claim: lowest lane, then earliest due (one seek, no sort)
    Index("ix_jobs_due", "state", "lane", "run_at", "id"),
    Index("ix_jobs_leases", "state", "lease_expires_at"),
    Index("ix_jobs_image", "image_id"),
    Index("ix_jobs_batch", "batch_id", "state"),
    UniqueConstraint("kind", "image_id", name="uq_jobs_kind_image"),
)

# Batch work started from the command line (reprocessing): what it covers, how many jobs it
# enqueued, and when it ended. Running the same command while its batch is unfinished resumes
# it: images processed since the batch began are not enqueued again.
batches = Table(
    "batches",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("selection", String(20), nullable=False),  # all | failed
    Column("total", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=True),
    Index("ix_batches_open", "kind", "selection", "finished_at"),
)

egress_daily = Table(
    "egress_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("source", String(20), primary_key=True),  # origin | edge
    Column("bytes", BigInteger, nullable=False),
    Column("requests", BigInteger, nullable=False),
)

# Users whose live-status streams should look again, in commit order: written by the triggers
# of migration 0020 on SQLite (on PostgreSQL they NOTIFY instead, and this stays empty), read
# from where it left off by each API process's one poller (adapters/db/event_feeds.py).
event_wakeups = Table(
    "event_wakeups",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, nullable=False),
)


# The feature tables live in modules of their own; importing this module defines them all.
from shutterbox.adapters.db.tables_albums import album_images, albums, shares  # noqa: E402
from shutterbox.adapters.db.tables_limits import rate_limit_counters  # noqa: E402
from shutterbox.adapters.db.tables_moderation import (  # noqa: E402
    blocks,
    image_holds,
    moderation_audit,
    reports,
    suspensions,
)
from shutterbox.adapters.db.tables_search import image_search  # noqa: E402
from shutterbox.adapters.db.tables_social import comments, likes, notifications  # noqa: E402

__all__ = [
    "album_images",
    "albums",
    "blocks",
    "comments",
    "image_holds",
    "image_search",
    "likes",
    "moderation_audit",
    "notifications",
    "rate_limit_counters",
    "reports",
    "shares",
    "suspensions",
]
