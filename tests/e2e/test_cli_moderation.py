"""Suspending an account from the shell."""

from __future__ import annotations

import pytest

from tests.support.cli import invoke, sqlite_rows

pytestmark = pytest.mark.e2e


def test_suspend_and_unsuspend_from_the_shell(env: dict[str, str]):
    created = invoke(env, "users", "create", "mallory", stdin="correct horse\ncorrect horse\n")
    assert created.exit_code == 0, created.output
    suspended = invoke(env, "users", "suspend", "mallory", "--reason", "spam account")
    assert suspended.exit_code == 0 and "suspended mallory" in suspended.output
    assert sqlite_rows(env, "SELECT reason FROM suspensions") == [("spam account",)]
    again = invoke(env, "users", "unsuspend", "mallory", "--reason", "appeal")
    assert again.exit_code == 0, again.output
    assert sqlite_rows(env, "SELECT reason FROM suspensions") == []
    log = sqlite_rows(env, "SELECT actor_name, action FROM moderation_audit ORDER BY id")
    assert log == [("(shell)", "suspend"), ("(shell)", "unsuspend")]
    unknown = invoke(env, "users", "suspend", "nobody", "--reason", "x")
    assert unknown.exit_code == 1 and "no user called 'nobody'" in unknown.output
    missing = invoke(env, "users", "suspend", "mallory")
    assert missing.exit_code != 0 and "--reason" in missing.output
