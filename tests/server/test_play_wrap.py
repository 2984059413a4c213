"""`aegent play` wraps what it shows to its terminal: the server sends paragraphs whole."""

from __future__ import annotations

import io

import pytest

from server.play import Terminal

PARAGRAPH = ("Cobblestones worn smooth by cart wheels spread out around a round stone fountain, "
             "its basin green with moss.")


def shown(text: str) -> list[str]:
    out = io.StringIO()
    Terminal(out, io.StringIO(), color=False).show(text)
    return out.getvalue().rstrip("\n").split("\n")


def test_text_is_wrapped_to_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    lines = shown(f"Town Square\n{PARAGRAPH}\n  1. Rats in the Cellar: kill a cellar rat. "
                  "Not yet: 0 of 4 killed.")
    assert lines == [
        "Town Square",
        "Cobblestones worn smooth by cart wheels",
        "spread out around a round stone",
        "fountain, its basin green with moss.",
        "  1. Rats in the Cellar: kill a cellar",
        "  rat. Not yet: 0 of 4 killed."]
    monkeypatch.setenv("COLUMNS", "120")
    assert shown(PARAGRAPH) == [PARAGRAPH]  # a wide terminal: the paragraph on one line
