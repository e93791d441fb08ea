"""The moderation and blocking rows of the access matrix (``test_access_matrix.py``): each
endpoint against anonymous, another user, the owner of what it touches and an admin. What
the rows act on is made fresh for each call, so that the world's own images stay as they are."""

from __future__ import annotations

import itertools
from typing import Any

from tests.support.clients import register

_serial = itertools.count()


def _someone(w: Any) -> str:
    name = f"someone{next(_serial)}"
    register(w.client, name)
    return name


def _reported(w: Any) -> str:
    """An open report (bob's, of a fresh public image of alice's): its resolve path."""
    image_id = w.fresh("public")
    body = {"subject": "image", "id": image_id, "reason": "spam"}
    made = w.client.post("/api/v1/reports", headers=w.auth["other"], json=body)
    assert made.status_code == 201, made.text
    return f"/api/v1/admin/reports/{made.json()['id']}/resolve"


def _hidden(w: Any) -> str:
    image_id = w.fresh("public")
    hidden = w.client.post(
        f"/api/v1/admin/images/{image_id}/hide", headers=w.auth["admin"], json={"reason": "x"}
    )
    assert hidden.status_code == 204, hidden.text
    return f"/api/v1/admin/images/{image_id}/unhide"


def _suspended(w: Any) -> str:
    name = _someone(w)
    done = w.client.post(
        f"/api/v1/admin/users/{name}/suspend", headers=w.auth["admin"], json={"reason": "x"}
    )
    assert done.status_code == 204, done.text
    return f"/api/v1/admin/users/{name}/unsuspend"


def _blocked(w: Any) -> str:
    return f"/api/v1/users/{_someone(w)}/block"


REASON = {"reason": "the audit log keeps this"}


def moderation_rows(row: Any) -> list[Any]:
    """The rows, built with the matrix's ``Row``."""
    return [
        row(
            "report-public-image",
            "POST",
            "/api/v1/reports",
            (401, 201, 422, 201),  # one's own image cannot be reported
            json=lambda w: {"subject": "image", "id": w.public["id"], "reason": "spam"},
        ),
        row(
            "report-private-image",
            "POST",
            "/api/v1/reports",
            (401, 404, 422, 404),
            json=lambda w: {"subject": "image", "id": w.private["id"], "reason": "spam"},
        ),
        row(
            "report-user",
            "POST",
            "/api/v1/reports",
            (401, 201, 422, 201),
            json={"subject": "user", "id": "alice", "reason": "harassment"},
        ),
        row(
            "report-comment",
            "POST",
            "/api/v1/reports",
            (401, 404, 404, 404),  # no comments yet
            json={"subject": "comment", "id": "1", "reason": "spam"},
        ),
        row("admin-reports", "GET", "/api/v1/admin/reports", (401, 403, 403, 200)),
        row("admin-audit", "GET", "/api/v1/admin/audit", (401, 403, 403, 200)),
        row(
            "admin-resolve",
            "POST",
            _reported,
            (401, 403, 403, 200),
            json={"action": "dismiss", "note": ""},
        ),
        row(
            "admin-hide",
            "POST",
            lambda w: f"/api/v1/admin/images/{w.fresh('public')}/hide",
            (401, 403, 403, 204),
            json=REASON,
        ),
        row("admin-unhide", "POST", _hidden, (401, 403, 403, 204), json=REASON),
        row(
            "admin-suspend",
            "POST",
            lambda w: f"/api/v1/admin/users/{_someone(w)}/suspend",
            (401, 403, 403, 204),
            json=REASON,
        ),
        row("admin-unsuspend", "POST", _suspended, (401, 403, 403, 204), json=REASON),
        row(
            "image-moderation",
            "GET",
            lambda w: f"/api/v1/images/{w.public['id']}/moderation",
            (401, 404, 200, 404),
        ),
        row("block", "PUT", _blocked, (401, 204, 204, 204)),
        row("unblock", "DELETE", _blocked, (401, 204, 204, 204)),
        row("blocks", "GET", "/api/v1/users/me/blocks", (401, 200, 200, 200)),
    ]
