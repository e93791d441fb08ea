"""Reports, the admins' queue, hiding, removing, suspending, and the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shutterbox.services.moderation import actions
from tests.api.moderation_world import Moderated, moderated_world, thumb_path


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Moderated]:
    with moderated_world(tmp_path, report_rate="5/minute") as moderated:
        yield moderated


def test_a_report_is_made_once_per_subject_and_queued_with_a_count(world: Moderated) -> None:
    photo = world.photo(world.alice, visibility="public")
    first = world.report(world.bob, "image", photo["id"], note="ads")
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "open" and first.json()["note"] == "ads"
    again = world.report(world.bob, "image", photo["id"], note="still ads", reason="other")
    assert again.json()["id"] == first.json()["id"]
    assert (again.json()["note"], again.json()["reason"]) == ("still ads", "other")
    world.report(world.admin, "image", photo["id"])
    world.report(world.bob, "user", "alice")
    queue = world.client.get("/api/v1/admin/reports", headers=world.admin).json()["items"]
    assert [(r["subject"], r["reports_on_subject"]) for r in queue] == [
        ("image", 2),
        ("image", 2),
        ("user", 1),
    ]
    page = world.client.get("/api/v1/admin/reports?limit=2", headers=world.admin).json()
    rest = world.client.get(
        f"/api/v1/admin/reports?limit=2&cursor={page['next_cursor']}", headers=world.admin
    ).json()
    assert [r["id"] for r in page["items"] + rest["items"]] == [r["id"] for r in queue]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"subject": "image", "id": "nope", "reason": "spam"}, 404),
        ({"subject": "user", "id": "nobody", "reason": "spam"}, 404),
        ({"subject": "comment", "id": "nosuchcomment", "reason": "spam"}, 404),
        ({"subject": "user", "id": "bob", "reason": "spam"}, 422),  # oneself
        ({"subject": "user", "id": "alice", "reason": "rude"}, 422),
        ({"subject": "album", "id": "alice", "reason": "spam"}, 422),
        ({"subject": "user", "id": "alice", "reason": "spam", "note": "x" * 1001}, 422),
    ],
)
def test_bad_reports_are_refused_with_a_clear_status(
    world: Moderated, body: dict[str, str], status: int
) -> None:
    response = world.client.post("/api/v1/reports", headers=world.bob, json=body)
    assert response.status_code == status, response.text
    assert response.json()["detail"]


def test_a_private_image_cannot_be_reported_by_others_and_reports_are_rate_limited(
    world: Moderated,
) -> None:
    private = world.photo(world.alice, visibility="private")
    assert world.report(world.bob, "image", private["id"]).status_code == 404
    assert world.report({}, "user", "alice").status_code == 401
    statuses = [world.report(world.bob, "user", "alice").status_code for _ in range(6)]
    assert statuses[-1] == 429  # five a minute; the 404 above counted too
    assert "Retry-After" in world.report(world.bob, "user", "alice").headers


def _everywhere(world: Moderated, photo_id: str, auth: dict[str, str]) -> dict[str, bool]:
    return {
        "feed": photo_id in world.ids("/api/v1/feed", auth),
        "tag": photo_id in world.ids("/api/v1/tags/sea/images", auth),
        "profile": photo_id in world.ids("/api/v1/users/alice/images", auth),
        "search": photo_id in world.ids("/api/v1/search?q=sea", auth),
        "home": photo_id in world.ids("/api/v1/home", auth) if auth else False,
        "image": world.client.get(f"/api/v1/images/{photo_id}", headers=auth).status_code == 200,
    }


def test_hiding_an_image_hides_it_from_all_but_its_owner_and_purges_the_edge(
    world: Moderated,
) -> None:
    photo = world.photo(world.alice, visibility="public", tags="sea")
    assert world.client.put("/api/v1/users/alice/follow", headers=world.bob).status_code == 204
    assert all(_everywhere(world, photo["id"], world.bob).values())
    world.edge.purged.clear()
    hidden = world.admin_post(f"/api/v1/admin/images/{photo['id']}/hide", reason="spam links")
    assert hidden.status_code == 204, hidden.text
    assert thumb_path(photo) in world.edge.purged
    for auth in (world.bob, {}, world.admin):
        assert not any(_everywhere(world, photo["id"], auth).values())
    assert world.client.get(thumb_path(photo)).status_code == 404
    owner_view = _everywhere(world, photo["id"], world.alice)
    assert owner_view["image"] and owner_view["profile"] and owner_view["home"]
    notice = world.client.get(f"/api/v1/images/{photo['id']}/moderation", headers=world.alice)
    assert notice.json()["hidden_by_moderators"] and notice.json()["reason"] == "spam links"
    assert (
        world.client.get(f"/api/v1/images/{photo['id']}/moderation", headers=world.bob).status_code
        == 404
    )
    made_public = world.client.patch(
        f"/api/v1/images/{photo['id']}", headers=world.alice, json={"visibility": "public"}
    )
    assert made_public.status_code == 403
    shown = world.admin_post(f"/api/v1/admin/images/{photo['id']}/unhide", reason="fine")
    assert shown.status_code == 204
    assert all(_everywhere(world, photo["id"], world.bob).values())
    again = world.admin_post(f"/api/v1/admin/images/{photo['id']}/unhide", reason="fine")
    assert again.status_code == 409


def test_suspending_a_user_stops_their_logins_and_hides_their_images_until_unsuspended(
    world: Moderated,
) -> None:
    photo = world.photo(world.alice, visibility="public", tags="sea")
    private = world.photo(world.alice, visibility="private", tags="sea")
    hidden_first = world.photo(world.alice, visibility="public", tags="sea")
    world.admin_post(f"/api/v1/admin/images/{hidden_first['id']}/hide", reason="spam")
    world.edge.purged.clear()
    suspended = world.admin_post("/api/v1/admin/users/alice/suspend", reason="spam account")
    assert suspended.status_code == 204, suspended.text
    assert thumb_path(photo) in world.edge.purged
    assert world.client.get("/api/v1/users/me", headers=world.alice).status_code == 401
    login = world.client.post(
        "/api/v1/auth/token", data={"username": "alice", "password": "correct horse"}
    )
    assert login.status_code == 403 and "suspended" in login.json()["detail"]
    assert not any(_everywhere(world, photo["id"], world.bob).values())
    assert world.client.get(thumb_path(photo)).status_code == 404
    assert world.admin_post("/api/v1/admin/users/boss/suspend", reason="x").status_code == 422
    assert world.admin_post("/api/v1/admin/users/nobody/suspend", reason="x").status_code == 404
    back = world.admin_post("/api/v1/admin/users/alice/unsuspend", reason="appeal accepted")
    assert back.status_code == 204
    alice = world.login("alice")
    assert all(_everywhere(world, photo["id"], world.bob).values()) is False  # bob never followed
    assert _everywhere(world, photo["id"], world.bob)["feed"]
    assert world.client.get(thumb_path(photo)).status_code == 200
    assert not _everywhere(world, hidden_first["id"], world.bob)["feed"]  # still hidden
    own = world.client.get(f"/api/v1/images/{private['id']}", headers=alice).json()
    assert own["visibility"] == "private"
    assert world.admin_post("/api/v1/admin/users/alice/unsuspend", reason="x").status_code == 409


def test_an_account_with_more_images_than_a_step_is_held_and_given_back_whole(
    world: Moderated, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actions, "IMAGES_PER_STEP", 2)  # 5 images: three steps each way
    photos = [world.photo(world.alice, visibility="public", tags="sea") for _ in range(5)]
    world.edge.purged.clear()
    assert world.admin_post("/api/v1/admin/users/alice/suspend", reason="spam").is_success
    for photo in photos:
        assert not any(_everywhere(world, photo["id"], world.bob).values())
        assert thumb_path(photo) in world.edge.purged
    assert world.admin_post("/api/v1/admin/users/alice/unsuspend", reason="ok").is_success
    for photo in photos:
        assert _everywhere(world, photo["id"], world.bob)["feed"]
        assert world.client.get(thumb_path(photo)).status_code == 200


def test_resolving_reports_acts_on_the_subject_and_is_audited(world: Moderated) -> None:
    spam = world.photo(world.alice, visibility="public")
    rude = world.photo(world.alice, visibility="public")
    report_spam = world.report(world.bob, "image", spam["id"]).json()
    world.report(world.admin, "image", spam["id"])
    report_rude = world.report(world.bob, "image", rude["id"]).json()
    report_user = world.report(world.bob, "user", "alice").json()
    removed = world.admin_post(
        f"/api/v1/admin/reports/{report_spam['id']}/resolve", action="remove", note="ads"
    )
    assert removed.status_code == 200, removed.text
    assert removed.json()["status"] == "resolved"
    assert world.client.get(f"/api/v1/images/{spam['id']}", headers=world.alice).status_code == 404
    assert world.client.get(thumb_path(spam)).status_code == 404
    hide_user = world.admin_post(
        f"/api/v1/admin/reports/{report_user['id']}/resolve", action="hide"
    )
    assert hide_user.status_code == 422
    dismissed = world.admin_post(
        f"/api/v1/admin/reports/{report_rude['id']}/resolve", action="dismiss", note="art"
    )
    assert dismissed.json()["resolution"] == "dismiss"
    assert (
        world.admin_post(
            f"/api/v1/admin/reports/{report_rude['id']}/resolve", action="dismiss"
        ).status_code
        == 409
    )
    assert (
        world.admin_post("/api/v1/admin/reports/999/resolve", action="dismiss").status_code == 404
    )
    open_queue = world.client.get("/api/v1/admin/reports", headers=world.admin).json()["items"]
    assert [r["id"] for r in open_queue] == [report_user["id"]]
    resolved = world.client.get(
        "/api/v1/admin/reports?status=resolved", headers=world.admin
    ).json()["items"]
    assert [r["id"] for r in resolved] == [report_rude["id"]]  # the removed image's went with it
    audit = world.client.get("/api/v1/admin/audit", headers=world.admin).json()
    assert [(e["action"], e["subject_id"]) for e in audit["items"]] == [
        ("resolve", rude["id"]),
        ("resolve", spam["id"]),
        ("remove", spam["id"]),
    ]
    assert {e["actor"] for e in audit["items"]} == {"boss"}
    assert audit["items"][2]["reason"] == "ads"
    first = world.client.get("/api/v1/admin/audit?limit=1", headers=world.admin).json()
    second = world.client.get(
        f"/api/v1/admin/audit?limit=2&cursor={first['next_cursor']}", headers=world.admin
    ).json()
    assert [e["id"] for e in first["items"] + second["items"]] == [e["id"] for e in audit["items"]]


def test_a_trashed_images_reports_leave_the_queue(world: Moderated) -> None:
    photo = world.photo(world.alice, visibility="public")
    world.report(world.bob, "image", photo["id"])
    assert (
        world.client.delete(f"/api/v1/images/{photo['id']}", headers=world.alice).status_code == 204
    )
    assert world.client.get("/api/v1/admin/reports", headers=world.admin).json()["items"] == []


def test_admin_endpoints_refuse_others(world: Moderated) -> None:
    for auth, status in (({}, 401), (world.bob, 403)):
        assert world.client.get("/api/v1/admin/reports", headers=auth).status_code == status
        assert world.client.get("/api/v1/admin/audit", headers=auth).status_code == status
        response = world.client.post(
            "/api/v1/admin/users/alice/suspend", headers=auth, json={"reason": "x"}
        )
        assert response.status_code == status
    bad = world.client.get("/api/v1/admin/reports?status=maybe", headers=world.admin)
    assert bad.status_code == 422
    assert (
        world.client.get("/api/v1/admin/audit?cursor=%%%", headers=world.admin).status_code == 422
    )
    assert world.admin_post("/api/v1/admin/images/nope/hide", reason="x").status_code == 404
    assert world.admin_post("/api/v1/admin/images/nope/hide", reason="").status_code == 422


def test_share_links_show_nothing_moderators_hid_nor_anything_of_a_suspended_owner(
    world: Moderated,
) -> None:
    client = world.client
    kept = world.photo(world.alice, visibility="public", tags="sea")
    hidden = world.photo(world.alice, visibility="private", tags="sea")
    album = client.post(
        "/api/v1/albums", headers=world.alice, json={"title": "trip", "visibility": "private"}
    ).json()
    for photo in (kept, hidden):
        added = client.put(
            f"/api/v1/albums/{album['id']}/images/{photo['id']}", headers=world.alice
        )
        assert added.status_code == 204
    album_link = client.post("/api/v1/shares", headers=world.alice, json={"album_id": album["id"]})
    image_link = client.post("/api/v1/shares", headers=world.alice, json={"image_id": hidden["id"]})
    album_token, image_token = album_link.json()["token"], image_link.json()["token"]
    shown = client.get(f"/api/v1/shared/{album_token}").json()
    media = next(i for i in shown["images"] if i["id"] == hidden["id"])["variants"]["thumb"]["url"]
    assert client.get(media).status_code == 200

    assert world.admin_post(f"/api/v1/admin/images/{hidden['id']}/hide", reason="spam").is_success
    shown = client.get(f"/api/v1/shared/{album_token}").json()
    assert [i["id"] for i in shown["images"]] == [kept["id"]]
    assert client.get(f"/api/v1/shared/{image_token}").status_code == 404
    assert client.get(media).status_code == 404

    assert world.admin_post("/api/v1/admin/users/alice/suspend", reason="spam").is_success
    assert client.get(f"/api/v1/shared/{album_token}").status_code == 404
