"""tests/needs.py: a missing real thing skips a test outside CI and fails it under CI."""

from __future__ import annotations

import pytest
from needs import THINGS, in_ci, require


@pytest.mark.parametrize(("value", "ci"), [
    ("true", True), ("1", True), ("yes", True), ("TRUE", True), ("anything", True),
    ("", False), ("0", False), ("false", False), ("False", False), ("no", False),
])
def test_in_ci_reads_the_ci_variable(value: str, ci: bool) -> None:
    assert in_ci({"CI": value}) is ci
    assert in_ci({}) is False


def test_outside_ci_a_missing_thing_skips_and_says_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="make browser"):
        require("chromium", available=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install tintin"):
        require("tintin++", available=False)


@pytest.mark.parametrize("name", sorted(THINGS))
def test_under_ci_a_missing_thing_fails(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="under CI") as failed:
        require(name, available=False)
    assert THINGS[name].how in str(failed.value)


def test_a_present_thing_lets_the_test_go_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    require("nats-server", available=True)
    require("something else", available=True, how="never said")


def test_a_probe_of_its_own_with_how(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="build it from source"):
        require("gizmo", available=False, how="build it from source")
    with pytest.raises(KeyError):
        require("gizmo")  # no probe known and none given
