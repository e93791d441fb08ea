"""The list queries over images, built once per shape and reused.

Building a SQLAlchemy ``select`` of some forty columns costs more than SQLite takes to run
it, so each shape of list (public feed, profile, tag, home, trash; first page or after a
cursor) is built once, with bound parameters, and cached: a request only binds its values.

Every shape is one seek of an index that ends in the page's order (see ``tables.py`` and
tests/integration/test_query_plans.py): the cursor is a row value, ``(created, id) < (:at,
:after_id)``, which both SQLite and PostgreSQL turn into one range of the index.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    func,
    or_,
    select,
    tuple_,
)

from shutterbox.adapters.db.rows import image_columns, variant_columns
from shutterbox.adapters.db.tables import home_timeline, image_tags, images, users, variants
from shutterbox.domain.images import Status, Visibility
from shutterbox.ports.metadata import Position

_SHOWN = (images.c.status == Status.READY.value, images.c.deleted_at.is_(None))
_PUBLIC = images.c.visibility == Visibility.PUBLIC.value
_LIMIT = bindparam("limit", type_=Integer)


def _after_cursor(created: Any, ident: Any) -> Any:
    at, after_id = bindparam("at", type_=DateTime), bindparam("after_id", type_=String)
    return tuple_(created, ident) < tuple_(at, after_id)


def _with_owner() -> Select[Any]:
    return select(*image_columns).join(users, users.c.id == images.c.owner_id)


# What a list query answers: each image's id and row version. The images themselves come from
# the process's ``ImageCache`` or, for those it lacks, from one query by id (``IMAGES_BY_ID``).
_LISTED = (images.c.id, images.c.version)


def _owner_named() -> Any:
    """The id of the user called ``owner_name``: a subquery that both databases run once,
    before the list, so the list seeks the owner's index in its order (joined instead,
    PostgreSQL would sort, or walk the whole feed for the owner's rows)."""
    named = users.c.username == bindparam("owner_name", type_=String)
    return select(users.c.id).where(named).scalar_subquery()


@cache
def images_list(
    *, owner: bool, tag: bool, include_private: bool, after_cursor: bool, by_name: bool = False
) -> Select[Any]:
    """Ready, undeleted images, newest first: their ids and versions. Parameters: ``limit``;
    ``owner_id`` (or, ``by_name``, ``owner_name``) and ``tag`` when asked for; ``at`` and
    ``after_id`` after a cursor."""
    query = select(*_LISTED)
    conditions = list(_SHOWN)
    if not include_private:
        conditions.append(_PUBLIC)
    if owner and by_name:  # the owner's id by its unique name, once (not a join: see below)
        conditions.append(images.c.owner_id == _owner_named())
    elif owner:
        conditions.append(images.c.owner_id == bindparam("owner_id", type_=Integer))
    if tag:
        query = query.join(image_tags, image_tags.c.image_id == images.c.id)
        conditions.append(image_tags.c.tag == bindparam("tag", type_=String))
        created, ident = image_tags.c.created_at, image_tags.c.image_id
    else:
        created, ident = images.c.created_at, images.c.id
    if after_cursor:
        conditions.append(_after_cursor(created, ident))
    return query.where(*conditions).order_by(created.desc(), ident.desc()).limit(_LIMIT)


@cache
def home_list(*, after_cursor: bool) -> Select[Any]:
    """A home from its materialised timeline (``timeline.py``), newest first: ids and
    versions. Parameters: ``user_id``, ``limit``, and ``at`` and ``after_id`` after a
    cursor. Each image's own state is checked again, so a stale row can never show what it
    should not."""
    entry = home_timeline.c
    user_id = bindparam("user_id", type_=Integer)
    conditions = [
        entry.user_id == user_id,
        *_SHOWN,
        or_(_PUBLIC, images.c.owner_id == user_id),
    ]
    if after_cursor:
        conditions.append(_after_cursor(entry.created_at, entry.image_id))
    return (
        select(*_LISTED)
        .select_from(home_timeline)
        .join(images, images.c.id == entry.image_id)
        .where(*conditions)
        .order_by(entry.created_at.desc(), entry.image_id.desc())
        .limit(_LIMIT)
    )


@cache
def trash_list(*, after_cursor: bool) -> Select[Any]:
    """An owner's deleted images, most recently deleted first. Parameters: ``owner_id``,
    ``limit``, and ``at`` and ``after_id`` after a cursor."""
    conditions = [
        images.c.owner_id == bindparam("owner_id", type_=Integer),
        images.c.deleted_at.is_not(None),
    ]
    if after_cursor:
        conditions.append(_after_cursor(images.c.deleted_at, images.c.id))
    return (
        _with_owner()
        .where(*conditions)
        .order_by(images.c.deleted_at.desc(), images.c.id.desc())
        .limit(_LIMIT)
    )


@cache
def library_list(*, after_cursor: bool) -> Select[Any]:
    """An owner's undeleted images in any status, oldest first. Parameters: ``owner_id``,
    ``limit``, and ``at`` and ``after_id`` after a position."""
    conditions = [
        images.c.owner_id == bindparam("owner_id", type_=Integer),
        images.c.deleted_at.is_(None),
    ]
    if after_cursor:
        at, after_id = bindparam("at", type_=DateTime), bindparam("after_id", type_=String)
        conditions.append(tuple_(images.c.created_at, images.c.id) > tuple_(at, after_id))
    return _with_owner().where(*conditions).order_by(images.c.created_at, images.c.id).limit(_LIMIT)


# One seek of images' primary key and one of variants' (image_id, name, format) prefix.
VARIANT_FILES = (
    select(
        images.c.owner_id,
        images.c.visibility,
        images.c.deleted_at,
        func.coalesce(images.c.processed_at, images.c.created_at).label("last_modified"),
        *variant_columns[1:],
    )
    .select_from(
        images.outerjoin(
            variants,
            and_(
                variants.c.image_id == images.c.id,
                variants.c.name == bindparam("name", type_=String),
            ),
        )
    )
    .where(images.c.id == bindparam("image_id", type_=String))
)
ONE_IMAGE = _with_owner().where(images.c.id == bindparam("image_id", type_=String))
IMAGES_BY_ID = _with_owner().where(images.c.id.in_(bindparam("image_ids", expanding=True)))
VARIANTS_OF = select(*variant_columns).where(
    variants.c.image_id.in_(bindparam("image_ids", expanding=True))
)


def page_parameters(limit: int, cursor: Position | None, **values: Any) -> dict[str, Any]:
    parameters = {"limit": limit, **values}
    if cursor is not None:
        parameters["at"], parameters["after_id"] = cursor
    return parameters
