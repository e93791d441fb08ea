"""Rows become domain objects by position (adapters/db/rows.py): the selected columns must
follow the fields of the dataclasses."""

from __future__ import annotations

from dataclasses import fields

from shutterbox.adapters.db.rows import image_columns, variant_columns
from shutterbox.domain.images import Image, Variant


def test_image_columns_follow_the_image_fields():
    names = [field.name for field in fields(Image)]
    assert [column.name for column in image_columns] == names[: len(image_columns)]
    assert names[len(image_columns) :] == ["variants", "alternates"]


def test_variant_columns_follow_the_variant_fields():
    names = [field.name for field in fields(Variant)]
    assert [column.name for column in variant_columns] == ["image_id", *names]
