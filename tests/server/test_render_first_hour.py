"""Golden text for what a newcomer reads in the first hour: looking at people (with and
without a class), the XP a quest gives, and the `width` setting."""

from __future__ import annotations

from server.gateway import render
from world import events as ev


def plain(event: ev.Event, viewer: str = "Ann") -> str:
    return render.plain(render.render(event, viewer))


def looked(kind: str, cls: str, condition: str = "excellent") -> str:
    return plain(ev.LookedAt("Marta the landlady", kind, "A stout woman.",
                             {"level": 18, "class": cls, "position": "standing", "title": "",
                              "condition": condition, "linkdead": False}))


def test_a_mob_has_no_class_and_says_no_empty_one() -> None:
    assert looked("mob", "") == "A stout woman.\nMarta the landlady (level 18) is in " \
                                "excellent condition."
    assert looked("player", "warrior") == "A stout woman.\nMarta the landlady, a level 18 " \
                                          "warrior, is in excellent condition."
    assert looked("mob", "", "a few scratches").endswith("(level 18) has a few scratches.")
    assert looked("mob", "", "badly wounded").endswith("(level 18) is badly wounded.")


def test_quest_xp_names_the_quest_not_its_id() -> None:
    gained = ev.XpGained(350, "quest", "haven:rats_in_the_cellar", 350, 1000,
                         "Rats in the Cellar")
    assert plain(gained) == ("You gain 350 experience for the quest 'Rats in the Cellar'. "
                             "(350/1000)")
    assert "haven:" not in plain(ev.XpGained(350, "quest", "haven:rats", 350, 1000))


def test_width_setting_texts() -> None:
    assert plain(ev.SettingChanged("width", 60)) == "Text wraps at 60 columns."
    assert plain(ev.SettingChanged("width", 0)) == "Text is not wrapped."
    assert plain(ev.SettingChanged("width", None)) == (
        "Text wraps to your client's window, or at 80 columns when it does not say its size.")
