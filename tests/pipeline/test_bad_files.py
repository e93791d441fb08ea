"""Files that are not pictures are refused at the door; damaged pictures of every accepted
format are refused at the door or end `failed` with a reason a person understands. Never a
5xx, never stuck in `processing`, never `ready` with whatever a decoder made of the rest."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.pipeline import corpus
from tests.pipeline.checks import Outcome, assert_human_readable, process_all, reference_open
from tests.support.clients import upload

DAMAGED = [(fmt, damage) for fmt in corpus.ACCEPTED_FORMATS for damage in corpus.DAMAGES]
DAMAGED_IDS = [f"{fmt}-{damage}" for fmt, damage in DAMAGED]
EXTENSIONS = {"jpeg": "jpg", "tiff": "tif"}


@pytest.mark.parametrize("kind", list(corpus.NOT_PICTURES))
def test_not_a_picture_is_refused_with_415(service: TestClient, owner: dict[str, str], kind):
    filename, build = corpus.NOT_PICTURES[kind]
    response = upload(service, owner, build(), name=filename)
    assert response.status_code == 415, response.text
    detail = response.json()["detail"]
    assert "not a picture" in detail
    assert detail.endswith(corpus.ACCEPTED), detail
    assert "id" not in response.json()


@pytest.fixture(scope="module")
def damaged_files() -> dict[str, bytes]:
    return {f"{fmt}-{damage}": corpus.damaged(fmt, damage) for fmt, damage in DAMAGED}


@pytest.fixture(scope="module")
def outcomes(
    service: TestClient, owner: dict[str, str], damaged_files: dict[str, bytes]
) -> dict[str, Outcome]:
    return process_all(
        service,
        owner,
        (
            (key, data, f"damaged.{EXTENSIONS.get(key.split('-')[0], key.split('-')[0])}")
            for key, data in damaged_files.items()
        ),
    )


@pytest.mark.parametrize("fmt", corpus.ACCEPTED_FORMATS)
def test_the_undamaged_file_is_fine(fmt: str):
    """The damage is all that is wrong: the same file whole decodes (and so does the part
    of it kept, up to the cut)."""
    image = reference_open(corpus.complete(fmt))
    assert image.size == (480, 320)


@pytest.mark.parametrize("key", DAMAGED_IDS)
def test_a_reference_decoder_refuses_the_damaged_file(damaged_files: dict[str, bytes], key):
    """Every damaged file is one a careful decoder refuses (Pillow, pillow-heif), so no
    server should publish a picture made from it."""
    with pytest.raises((OSError, ValueError, EOFError, SyntaxError)):
        reference_open(damaged_files[key])


@pytest.mark.parametrize("key", DAMAGED_IDS)
def test_damaged_file_is_refused_or_fails_with_a_reason(outcomes: dict[str, Outcome], key):
    outcome = outcomes[key]
    status = outcome.upload_status
    assert status < 500, outcome.upload_body
    if status != 201:
        assert 400 <= status < 500, outcome.upload_body
        detail = outcome.upload_body.get("detail")
        assert_human_readable(detail, f"{key} at upload")
        # it is an accepted format, damaged: saying the format is unsupported misleads
        assert "supported format" not in detail, f"{key}: {detail!r}"
        return
    image = outcome.image
    assert image["status"] == "failed", f"{key}: {image['status']}"
    assert_human_readable(image["failure_reason"], f"{key} failure_reason")
    assert image["variants"] == {}
    assert image["width"] is None and image["blurhash"] is None
