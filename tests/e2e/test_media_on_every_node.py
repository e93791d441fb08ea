"""A delete or a change to private takes effect at once on every API node: no node keeps
answering a media URL from a memory of the image. Two `shutterbox serve` processes share
one data directory (one metadata database, one blob store); each change is made on one and
checked on both, with no wait in between."""

from __future__ import annotations

import httpx2 as httpx
import pytest

from tests.support.clients import register, upload_ready, variant_paths

pytestmark = pytest.mark.e2e


def _status_everywhere(nodes: list[httpx.Client], path: str) -> list[int]:
    return [node.get(path).status_code for node in nodes]


def test_deleted_and_private_media_are_gone_at_once_on_every_node(server_factory):
    first = server_factory(SHUTTERBOX_JOB_POLL_SECONDS="0.2")
    second = server_factory(serve_args=("--no-workers",))
    first.start()
    second.start()
    with (
        httpx.Client(base_url=first.url, timeout=30) as a,
        httpx.Client(base_url=second.url, timeout=30) as b,
    ):
        nodes = [a, b]
        auth = register(a, "alice")
        deleted = variant_paths(upload_ready(a, auth, caption="to delete"))
        hidden_image = upload_ready(a, auth, caption="to hide")
        hidden = variant_paths(hidden_image)
        for path in [*deleted.values(), *hidden.values()]:
            assert _status_everywhere(nodes, path) == [200, 200]  # both nodes serve it

        image_id = deleted["thumb"].split("/")[2]
        assert b.delete(f"/api/v1/images/{image_id}", headers=auth).status_code == 204
        for path in deleted.values():
            assert _status_everywhere(nodes, path) == [404, 404], path

        changed = a.patch(
            f"/api/v1/images/{hidden_image['id']}", headers=auth, json={"visibility": "private"}
        )
        assert changed.status_code == 200, changed.text
        for path in hidden.values():
            assert _status_everywhere(nodes, path) == [404, 404], path
        # the owner still sees it, through the new (signed) URLs the API now hands out
        signed = b.get(f"/api/v1/images/{hidden_image['id']}", headers=auth).json()
        thumb_url = signed["variants"]["thumb"]["formats"]["jpeg"]
        assert a.get(thumb_url.removeprefix(str(a.base_url).rstrip("/"))).status_code == 200
