"""Golden text for the quest and trainer events."""

from __future__ import annotations

from server.gateway import render
from world import events as ev


def plain(event: ev.Event, viewer: str = "Ann") -> str:
    return render.plain(render.render(event, viewer))


REWARD = {"xp": 100, "gold": 50, "items": ["a copper ring"]}


def test_the_offer_list() -> None:
    listed = ev.QuestListed([
        {"n": 1, "id": "t:rats", "title": "Rat Catcher", "description": "Kill rats.",
         "kind": "kill", "target": "a rat", "count": 2, "to": None, "level": 1,
         "giver": "the elder", "reward": REWARD, "state": "available"},
        {"n": 2, "id": "t:parcel", "title": "A Parcel", "description": "Go.",
         "kind": "deliver", "target": "a parcel", "count": 1, "to": "the smith", "level": 3,
         "giver": "the elder", "reward": {"xp": 0, "gold": 0, "items": []},
         "state": "too_low"},
    ])
    assert plain(listed) == (
        "Quests offered here:\n"
        "  1. Rat Catcher [level 1, from the elder]\n"
        "     Kill a rat (2). Reward: 100 XP, 50 gold, a copper ring.\n"
        "  2. A Parcel [level 3, from the elder] (too hard for you yet)\n"
        "     Deliver a parcel to the smith. Reward: nothing but thanks.\n"
        "Type 'quest accept <number>' to take one on.")


def test_accept_progress_complete_abandon() -> None:
    assert plain(ev.QuestAccepted("t:parcel", "A Parcel", "Take it to the smith.", "deliver",
                                  "a parcel", 1, "the elder", "the smith", "a parcel")) == (
        "You accept the quest 'A Parcel'.\nTake it to the smith.\n"
        "The elder hands you a parcel.")
    assert plain(ev.QuestProgressed("t:rats", "Rat Catcher", 1, 2)) == (
        "Quest 'Rat Catcher': 1/2.")
    assert plain(ev.QuestProgressed("t:rats", "Rat Catcher", 2, 2)) == (
        "Quest 'Rat Catcher': 2/2. Return to claim your reward!")
    assert plain(ev.QuestCompleted("t:rats", "Rat Catcher", REWARD)) == (
        "Quest complete: 'Rat Catcher'! You receive 100 XP, 50 gold, a copper ring.")
    assert plain(ev.QuestAbandoned("t:rats", "Rat Catcher")) == (
        "You abandon the quest 'Rat Catcher'.")


def test_status() -> None:
    assert plain(ev.QuestStatusShown([], [])) == (
        "You are on no quest. Look for quest givers and type 'quest list'.")
    status = ev.QuestStatusShown([
        {"id": "t:rats", "title": "Rat Catcher", "kind": "kill", "target": "a rat",
         "count": 2, "needed": 2, "ready": True, "turn_in": "the elder"}], ["A Parcel"])
    assert plain(status) == (
        "Your quests:\n  1. Rat Catcher: kill a rat. 2 of 2 killed: ready to hand in to the "
        "elder.\nDone: A Parcel.")
    # "ready" only when it is: not yet, in words; a delivery is ready once carried
    rows = [
        {"id": "t:rats", "title": "Rat Catcher", "kind": "kill", "target": "a rat",
         "count": 0, "needed": 2, "ready": False, "turn_in": "the elder"},
        {"id": "t:pelts", "title": "Pelts", "kind": "collect", "target": "a pelt",
         "count": 1, "needed": 3, "ready": False, "turn_in": "the elder"},
        {"id": "t:parcel", "title": "A Parcel", "kind": "deliver", "target": "a parcel",
         "count": 0, "needed": 1, "ready": True, "turn_in": "the smith"},
        {"id": "t:letter", "title": "A Letter", "kind": "deliver", "target": "a letter",
         "count": 0, "needed": 1, "ready": False, "turn_in": "the smith"}]
    assert plain(ev.QuestStatusShown(rows, [])).split("\n")[1:] == [
        "  1. Rat Catcher: kill a rat. Not yet: 0 of 2 killed.",
        "  2. Pelts: bring a pelt. Not yet: 1 of 3 carried.",
        "  3. A Parcel: deliver a parcel to the smith. You carry it: give it to the smith.",
        "  4. A Letter: deliver a letter to the smith. Not yet: you no longer carry a letter."]


def test_practice() -> None:
    listed = ev.PracticeListed("the master", [
        {"id": "bash", "title": "bash", "kind": "skill", "level": 1, "proficiency": 40,
         "max": 75, "cost": 10, "can": True},
        {"id": "kick", "title": "kick", "kind": "skill", "level": 3, "proficiency": None,
         "max": 75, "cost": 30, "can": False}], 12)
    assert plain(listed) == (
        "The master can teach you:\n"
        "  bash                          40%     10 gold\n"
        "  kick                  not learned     30 gold (from level 3)\n"
        "You have 12 gold. Type 'practice <skill>'.")
    assert plain(ev.Practiced("the master", "bash", "bash", 48, 75, 10, 2)) == (
        "You practise bash with the master: now 48% (up to 75% here; 10 gold).")
    assert "\x1b[" in render.ansi(render.render(ev.QuestCompleted("q", "Q", REWARD), "Ann"))
