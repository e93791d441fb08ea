"""The migrations and the table definitions describe the same schema, on both databases, and
every migration can be undone."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from shutterbox.adapters.db.engine import open_database
from shutterbox.adapters.db.migrate import alembic_config, upgrade_to_head
from shutterbox.adapters.db.tables import metadata

# The search's word index differs by database and is made by migrations 0015 and 0022 alone
# (the FTS5 table and its shadow tables on SQLite; on PostgreSQL GIN indexes of expressions,
# the stored weighted words and the vocabulary of each field group).
_SEARCH_INDEX = (
    "image_search_index",
    "ix_image_search_words",
    "image_search_vocabulary",
    "weighted_words",
)


def _declared(name: str | None, _type: str, _parents: Any) -> bool:
    return name is None or not name.startswith(_SEARCH_INDEX)


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": False, "include_name": _declared}
    )
    return list(compare_metadata(context, metadata))


def _down_and_up(connection: Connection) -> None:
    command.downgrade(alembic_config(connection), "0005")
    command.upgrade(alembic_config(connection), "head")


async def test_the_migrated_schema_matches_the_tables(database_url: str):
    db = open_database(database_url)
    try:
        await upgrade_to_head(db)
        async with db.writer.connect() as conn:
            assert await conn.run_sync(_differences) == []
            await conn.run_sync(_down_and_up)
            await conn.commit()
            assert await conn.run_sync(_differences) == []
    finally:
        await db.dispose()


def _upgrade_to(revision: str) -> Any:
    return lambda connection: command.upgrade(alembic_config(connection), revision)


_BEFORE_THE_READ_PATH = """
INSERT INTO users (id, username, password_hash, is_admin, created_at) VALUES
  (1, 'ann', 'x', false, '2024-05-01 12:00:00'), (2, 'ben', 'x', false, '2024-05-01 12:00:00');
INSERT INTO images (id, owner_id, status, visibility, caption, alt_text, tags, original_key,
  original_media_type, original_bytes, original_sha256, original_storage_class, created_at,
  deleted_at) VALUES
  ('pub', 2, 'ready', 'public', '', '', '[]', 'o/1', 'image/jpeg', 1, 'a', 'STANDARD',
   '2024-05-01 12:00:01', NULL),
  ('priv', 2, 'ready', 'private', '', '', '[]', 'o/2', 'image/jpeg', 1, 'b', 'STANDARD',
   '2024-05-01 12:00:02', NULL),
  ('gone', 2, 'ready', 'public', '', '', '[]', 'o/3', 'image/jpeg', 1, 'c', 'STANDARD',
   '2024-05-01 12:00:03', '2024-05-02 12:00:00'),
  ('mine', 1, 'ready', 'private', '', '', '[]', 'o/4', 'image/jpeg', 1, 'd', 'STANDARD',
   '2024-05-01 12:00:04', NULL);
INSERT INTO follows (follower_id, followee_id, created_at) VALUES
  (1, 2, '2024-05-01 12:00:00')
"""


async def test_upgrading_an_installation_fills_the_homes_and_the_follow_names(
    database_url: str,
):
    """Migrations 0008 and 0009 over data of an earlier version: the home timelines hold
    what the homes showed, and the follows know their usernames."""
    db = open_database(database_url)
    try:
        async with db.writer.connect() as conn:
            await conn.run_sync(_upgrade_to("0007"))
            for statement in _BEFORE_THE_READ_PATH.split(";"):
                await conn.exec_driver_sql(statement)
            await conn.commit()
        await upgrade_to_head(db)
        async with db.writer.connect() as conn:
            homes = await conn.exec_driver_sql(
                "SELECT user_id, image_id FROM home_timeline ORDER BY user_id, image_id"
            )
            assert homes.all() == [(1, "mine"), (1, "pub"), (2, "priv"), (2, "pub")]
            names = await conn.exec_driver_sql("SELECT follower_name, followee_name FROM follows")
            assert names.all() == [("ann", "ben")]
    finally:
        await db.dispose()
