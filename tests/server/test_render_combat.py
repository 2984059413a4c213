"""Golden texts of the combat, group and progression events, as each viewer reads them."""

from __future__ import annotations

from server.gateway import render
from world import events as ev


def plain(event: ev.Event, viewer: str) -> str:
    return render.plain(render.render(event, viewer))


def test_fights() -> None:
    started = ev.FightStarted("Ann", "player", "a goblin", "mob")
    assert plain(started, "Ann") == "You attack a goblin!"
    assert plain(started, "Bob") == "Ann attacks a goblin!"
    assert plain(ev.FightStarted("a goblin", "mob", "Ann", "player"), "Ann") == \
        "A goblin attacks you!"
    hit = ev.HitLanded("Ann", "a goblin", 7, "a short sword", True)
    assert plain(hit, "Ann") == "You hit a goblin for 7 damage. A critical hit!"
    assert plain(ev.HitLanded("a goblin", "Ann", 0, "miss", False), "Ann") == \
        "A goblin misses you."


def test_flee_and_wimpy() -> None:
    fled = ev.Fled("Ann", "player", "north", True, False, 20)
    assert plain(fled, "Ann") == "You flee north, head over heels!"
    assert plain(fled, "Bob") == "Ann panics, and flees north!"
    assert plain(ev.Fled("Ann", "player", None, False, True, 0), "Ann") == \
        "PANIC! You couldn't escape!"
    assert plain(ev.WimpySet(8, 24), "Ann") == "You will flee when your hit points fall below 8."
    assert plain(ev.WimpySet(0, 24), "Ann") == "You will fight to the death (wimpy is off)."


def test_consider() -> None:
    text = plain(ev.Considered("a rat", "mob", "easy", -2, 1, 10, 10, 70, 4.0, 0.5, 3, 48, 20),
                 "Ann")
    assert text.startswith("A rat (2 levels below you, worth about 20 XP): Easy!")
    assert "need ~3 rounds" in text and "it does ~0.5/round and needs ~48" in text
    pack = plain(ev.Considered("a wolf", "mob", "risky", 0, 2, 30, 30, 70, 4.0, 6.5, 16, 9, 140,
                               ("a wolf", "an alpha wolf")), "Ann")
    assert "\nA wolf and an alpha wolf would fight you too.\n" in pack
    assert "they do ~6.5/round and need ~9." in pack


def test_xp_and_levels() -> None:
    assert plain(ev.XpGained(65, "kill", "a rat", 65, 1000), "Ann") == \
        "You gain 65 experience for a rat. (65/1000)"
    assert plain(ev.XpLost(100, "death", 900, 3000), "Ann") == \
        "You lose 100 experience (death). (900/3000)"
    gained = ev.LevelGained(2, 12, 0, 5, {"con": 1},
                            [{"id": "second_wind", "name": "second wind", "skill": True}])
    assert plain(gained, "Ann") == ("You raise a level! You are now level 2. (+12 hp, +5 moves, "
                                    "+1 con)\nYou learn a new skill: second wind.")


def test_groups() -> None:
    assert plain(ev.Followed("Bob", "Ann", None), "Bob") == "You now follow Ann."
    assert plain(ev.Followed("Bob", "Ann", None), "Ann") == "Bob now follows you."
    assert plain(ev.Followed("Bob", None, "Ann"), "Ann") == "Bob stops following you."
    joined = ev.GroupChanged("Ann", "Bob", True)
    assert plain(joined, "Bob") == "You are now a member of Ann's group."
    assert plain(joined, "Ann") == "Bob joins your group."
    assert plain(joined, "Cid") == "Bob joins Ann's group."
    told = ev.GroupTold("Ann", "player", "on me")
    assert plain(told, "Ann") == "You tell your group, 'on me'"
    assert plain(told, "Bob") == "Ann tells the group, 'on me'"
    assert plain(ev.Assisted("Bob", "player", "Ann", "a rat"), "Ann") == \
        "Bob joins you against a rat!"


def test_personal_events_are_rendered_per_viewer() -> None:
    for event in (ev.FightStarted("Ann", "player", "a rat", "mob"),
                  ev.HitLanded("Ann", "a rat", 1, "hit", False),
                  ev.Died("Ann", "player", None, "x"),
                  ev.Fled("Ann", "player", None, False, False, 0),
                  ev.GroupTold("Ann", "player", "hi")):
        assert render.is_personal(event)
