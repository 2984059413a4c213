"""GMCP, sans I/O: events and world changes in, the IRE messages Mudlet knows out.

A text `Session` with GMCP on and a `gmcp.Feed` on a real world (tests/itemworld.py:
Ann and Bob in `mart:square`) gets the deliveries of the world, as the server routes
them; the tests read what `take_gmcp` would send.
"""

from __future__ import annotations

import re
import zlib
from typing import Any

from helpers import starter_content
from itemworld import SQUARE, STORE, Play, new_play

from server import wire
from server.gateway import gmcp, render
from server.gateway.session import Limits, Session
from server.gateway.telnet import mssp_content
from server.wire import Subprotocol
from world.commands.registry import REGISTRY
from world.entities import Character, Kind, Role
from world.events import RoomShown, Said, Vitals
from world.rules import LEVEL_CAP
from world.world import World

ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")


class FakeGame:
    """A `GamePort` that runs nothing (the tests run the world themselves)."""

    def run(self, session: Session, msg: wire.Command | wire.CallTool | wire.Observe) -> None:
        pass

    def tool_list(self, session: Session, every: bool = False) -> list[dict[str, Any]]:
        return []

    def class_names(self) -> dict[str, str]:
        return {"warrior": "Warrior", "mage": "Mage"}


class Client:
    """`who`'s text session with GMCP, fed the world's deliveries."""

    def __init__(self, play: Play, who: Character, supports: gmcp.Supports | None = None
                 ) -> None:
        self.play, self.who = play, who
        self.session = Session("t1", Subprotocol.TEXT, FakeGame(), Limits(), now=0.0)
        self.session.gmcp_enabled = True
        self.session.gmcp_feed = gmcp.Feed(play.world, supports)
        self.session.auth_succeeded(who, "player")
        self.session.deliver(play.world.room_view(play.world.rooms[who.room], who))

    def route(self) -> None:
        for d in self.play.world.drain():
            if d.recipient is self.who:
                self.session.deliver(d.event)

    def do(self, who: Character, line: str) -> list[gmcp.Message]:
        """`who` does `line`; what this client's GMCP says after it."""
        refusal = self.play.world.perform_line(who, line)
        assert refusal is None, (line, refusal.message)
        return self.take()

    def take(self) -> list[gmcp.Message]:
        self.route()
        self.session.outbox()
        return self.session.take_gmcp()


def packages(msgs: list[gmcp.Message]) -> list[str]:
    return [p for p, _ in msgs]


def of(msgs: list[gmcp.Message], package: str) -> list[Any]:
    return [d for p, d in msgs if p == package]


def item_ids(world: World, room: str) -> dict[str, str]:
    return {it.keyword: str(it.id) for it in world.rooms[room].items}


# ---- room numbers ----------------------------------------------------------------------


def test_room_numbers_are_stable_positive_and_unique_in_the_content() -> None:
    # a CRC-32 of the id: the same on every machine and after every restart
    assert gmcp.room_number("haven:square") == zlib.crc32(b"haven:square") & 0x7FFFFFFF
    rooms = starter_content().rooms
    numbers = {gmcp.room_number(rid) for rid in rooms}
    assert len(numbers) == len(rooms)  # no two rooms share a number
    assert all(0 < n < 2**31 for n in numbers)


# ---- pure: one event, its messages -----------------------------------------------------


def test_room_info_has_the_mapper_fields() -> None:
    event = RoomShown(id="haven:square", title="Town Square", description="A square.",
                      zone="haven", exits={"north": "haven:temple_steps", "up": "haven:roof",
                                           "southeast": "haven:market_row"},
                      doors={}, characters=[], items=[], flags=["recall", "safe"])
    ((package, data),) = gmcp.messages(event, area="Haven")
    assert package == "Room.Info"
    assert data == {
        "num": gmcp.room_number("haven:square"), "id": "haven:square", "name": "Town Square",
        "area": "Haven", "zone": "haven", "environment": "outdoors",
        "details": ["recall", "safe"],
        "exits": {"n": gmcp.room_number("haven:temple_steps"),
                  "u": gmcp.room_number("haven:roof"),
                  "se": gmcp.room_number("haven:market_row")}}
    inside = RoomShown(id="a:b", title="Hall", description="", zone="a", exits={}, doors={},
                       characters=[], items=[], flags=["indoors"])
    assert gmcp.messages(inside)[0][1]["environment"] == "indoors"
    assert gmcp.messages(inside)[0][1]["area"] == "a"  # no display name known: the zone id


def test_vitals_keep_our_fields_and_add_ires() -> None:
    # level 2 starts at 1000 xp and level 3 at 3031: 1500 is 24% of the way
    event = Vitals(hp=10, max_hp=20, mana=5, max_mana=8, moves=90, max_moves=100, level=2,
                   xp=1500, xp_next=3031, position="standing", fighting=None)
    ((package, data),) = gmcp.messages(event)
    assert package == "Char.Vitals"
    assert {k: data[k] for k in event.to_data()} == event.to_data()
    assert {k: data[k] for k in ("hp", "maxhp", "mp", "maxmp", "ep", "maxep", "nl")} == {
        "hp": 10, "maxhp": 20, "mp": 5, "maxmp": 8, "ep": 90, "maxep": 100, "nl": 24}
    assert data["string"] == "H:10/20 M:5/8 E:90/100 NL:24/100"


def test_channel_text_is_the_line_and_the_words() -> None:
    said = Said("Bob", "player", "hi\x1b[2J there")
    ((package, data),) = gmcp.messages(said, "Ann")
    assert package == "Comm.Channel.Text"
    assert data == {"channel": "say", "talker": "Bob", "text": "Bob says, 'hi[2J there'",
                    "message": "hi[2J there"}  # cleaned, as the text is
    coloured = gmcp.messages(said, "Ann", colour=True)[0][1]["text"]
    assert coloured == render.ansi(render.render(said, "Ann"))
    assert gmcp.messages(Said("Ann", "player", "yo"), "Ann")[0][1]["text"] == "You say, 'yo'"


# ---- a session on a world: the lists kept in step --------------------------------------


def test_login_sends_name_status_channels_then_the_lists() -> None:
    play = new_play()
    play.give(play.ann, "bread", "sword")
    play.floor("gem")
    rat = play.world.spawn_mob("mart:rat", SQUARE)
    c = Client(play, play.ann)
    first = c.take()
    assert packages(first) == ["Char.Name", "Char.Status", "Comm.Channel.List", "Room.Info",
                               "Char.Items.List", "Char.Items.List", "Room.Players"]
    assert of(first, "Char.Status")[0] == {"name": "Ann", "fullname": "Ann", "level": 1,
                                           "class": "warrior", "gold": play.ann.gold, "xp": 0}
    assert [ch["name"] for ch in of(first, "Comm.Channel.List")[0]] == ["say", "tell", "shout",
                                                                         "gtell"]
    inv, room = of(first, "Char.Items.List")
    assert inv["location"] == "inv"
    by_name = {i["name"]: i for i in inv["items"]}
    assert by_name["a loaf of bread"]["attrib"] == "e"
    assert by_name["a short sword"]["attrib"] == "W"  # wearable, not worn
    assert all(i["id"].isdigit() for i in inv["items"])
    assert room["location"] == "room"
    assert {"id": str(rat.id), "name": "a rat", "keyword": "rat", "attrib": "m"} in room["items"]
    assert {"name": "a red gem", "attrib": "t"}.items() <= {
        k: v for i in room["items"] if i["name"] == "a red gem" for k, v in i.items()}.items()
    assert of(first, "Room.Players")[0] == [{"name": "Ann", "fullname": "Ann"},
                                            {"name": "Bob", "fullname": "Bob"}]
    assert c.take() == []  # nothing changed: nothing sent


def test_get_drop_give_wear_move_the_items_between_lists() -> None:
    play = new_play()
    (gem,) = play.floor("gem")
    (sword,) = play.give(play.ann, "sword")
    c = Client(play, play.ann)
    c.take()
    entry = {"id": str(gem.id), "name": "a red gem", "keyword": "gem"}
    got = c.do(play.ann, "get gem")
    assert ("Char.Items.Remove", {"location": "room", "item": {**entry, "attrib": "t"}}) in got
    assert ("Char.Items.Add", {"location": "inv", "item": entry}) in got
    dropped = c.do(play.ann, "drop gem")
    assert ("Char.Items.Remove", {"location": "inv", "item": entry}) in dropped
    assert ("Char.Items.Add", {"location": "room", "item": {**entry, "attrib": "t"}}) in dropped
    # someone else's doing shows too
    assert c.do(play.bob, "get gem") == [("Char.Items.Remove", {"location": "room",
                                                                "item": {**entry,
                                                                         "attrib": "t"}})]
    assert of(c.do(play.ann, "wield sword"), "Char.Items.Update") == [
        {"location": "inv", "item": {"id": str(sword.id), "name": "a short sword",
                                     "keyword": "sword", "attrib": "l"}}]
    assert of(c.do(play.bob, "give gem ann"), "Char.Items.Add")[0]["item"]["name"] == "a red gem"
    # `inventory` sends the whole list again (and nothing else changed)
    assert of(c.do(play.ann, "inventory"), "Char.Items.List") == [
        {"location": "inv", "items": [
            {"id": str(gem.id), "name": "a red gem", "keyword": "gem"},
            {"id": str(sword.id), "name": "a short sword", "keyword": "sword", "attrib": "l"}]}]


def test_people_coming_and_going() -> None:
    play = new_play()
    c = Client(play, play.ann)
    c.take()
    assert c.do(play.bob, "east") == [("Room.RemovePlayer", "Bob")]
    assert c.do(play.bob, "west") == [("Room.AddPlayer", {"name": "Bob", "fullname": "Bob"})]
    cat = play.world.enter("Cat", "mage", kind=Kind.AGENT)
    assert c.take() == [("Room.AddPlayer", {"name": "Cat", "fullname": "[AI] Cat"})]
    rat = play.world.spawn_mob("mart:rat", STORE)
    moved = c.do(play.ann, "east")  # a new room: its lists whole
    assert packages(moved) == ["Room.Info", "Char.Items.List", "Room.Players"]
    assert of(moved, "Room.Info")[0]["area"] == "Mart"
    assert of(moved, "Char.Items.List")[0] == {"location": "room", "items": [
        {"id": str(rat.id), "name": "a rat", "keyword": "rat", "attrib": "m"}]}
    assert of(moved, "Room.Players")[0] == [{"name": "Ann", "fullname": "Ann"}]
    assert cat.room == SQUARE


def test_requests_are_answered_with_a_list() -> None:
    play = new_play()
    (bag,) = play.give(play.ann, "bag")
    (gem,) = play.give(play.ann, "gem")
    c = Client(play, play.ann)
    c.take()
    c.do(play.ann, "put gem in bag")
    c.session.gmcp_request("Char.Items.Inv", None)
    c.session.gmcp_request("char.items.room", None)
    c.session.gmcp_request("Char.Items.Contents", bag.id)
    c.session.gmcp_request("Char.Items.Contents", "999999")  # not here: nothing
    c.session.gmcp_request("IRE.Rift.Request", None)  # not ours: nothing
    answers = c.session.take_gmcp()
    assert packages(answers) == ["Char.Items.List"] * 3
    inv, room, contents = (d for _, d in answers)
    assert inv["location"] == "inv" and [i["name"] for i in inv["items"]] == ["a canvas bag"]
    assert inv["items"][0]["attrib"] == "c"
    assert room == {"location": "room", "items": []}
    assert contents == {"location": f"rep{bag.id}",
                        "items": [{"id": str(gem.id), "name": "a red gem", "keyword": "gem"}]}


def test_only_the_declared_packages_once_a_client_declares() -> None:
    play = new_play()
    play.floor("gem")
    supports = gmcp.Supports(64)
    supports.update("Core.Supports.Set", ["Char 1", "Room 1"])
    c = Client(play, play.ann, supports)
    first = c.take()
    assert packages(first) == ["Char.Name", "Char.Status", "Room.Info", "Room.Players"]
    assert c.do(play.ann, "get gem") == []  # Char.Items is a module of its own
    said = c.do(play.bob, "say hi")
    assert said == [] and c.session.gmcp_inline == []  # no Comm
    supports.update("Core.Supports.Add", ["Char.Items 1", "Comm.Channel 1"])
    # the lists come whole the first time, then as changes
    inv, room = of(c.do(play.ann, "drop gem"), "Char.Items.List")
    assert inv["items"] == [] and room["items"][0]["name"] == "a red gem"
    assert packages(c.do(play.ann, "get gem")) == ["Char.Items.Remove", "Char.Items.Add"]
    assert packages(c.do(play.bob, "say hi")) == ["Comm.Channel.Text"]


def test_channel_start_and_end_go_around_the_line_in_the_text() -> None:
    play = new_play()
    c = Client(play, play.ann)
    c.take()
    play.world.perform_line(play.bob, "emote waves.")
    play.world.perform_line(play.bob, "say one two")
    play.world.perform_line(play.bob, "tell ann psst")
    c.route()
    (text,) = c.session.outbox()
    assert isinstance(text, str)
    marks = c.session.gmcp_inline
    assert [m for _, m in marks] == [
        ("Comm.Channel.Start", "say"), ("Comm.Channel.End", "say"),
        ("Comm.Channel.Start", "tell Bob"), ("Comm.Channel.End", "tell Bob")]
    (s1, _), (e1, _), (s2, _), (e2, _) = marks
    assert ANSI_CODE.sub("", text[s1:e1]) == "Bob says, 'one two'\n"
    assert ANSI_CODE.sub("", text[s2:e2]) == "Bob tells you, 'psst'\n"
    assert "waves" in text[:s1]
    assert packages(c.session.take_gmcp()) == ["Comm.Channel.Text", "Comm.Channel.Text"]


def test_channel_marks_fit_wrapped_lines() -> None:
    play = new_play()
    c = Client(play, play.ann)
    c.take()
    c.session.width = 20
    play.world.perform_line(play.bob, "say " + "word " * 12)
    c.route()
    (text,) = c.session.outbox()
    assert isinstance(text, str)
    (start, _), (end, _) = c.session.gmcp_inline
    said = ANSI_CODE.sub("", text[start:end])
    assert said.startswith("Bob says") and said.endswith("word'\n") and said.count("\n") > 2
    assert ANSI_CODE.sub("", text[end:]).strip() == ANSI_CODE.sub(
        "", c.session._prompt()).strip()


# ---- MSSP ------------------------------------------------------------------------------


def test_mssp_counts_come_from_the_content() -> None:
    content = starter_content()
    world = World(content, seed=1)
    counts = mssp_content(world)
    commands = sum(1 for spec in REGISTRY.specs.values() if spec.role is Role.PLAYER)
    assert counts == {
        "AREAS": len(content.zones), "ROOMS": len(content.rooms), "MOBILES": len(content.mobs),
        "OBJECTS": len(content.items), "HELPFILES": len(content.help) + commands,
        "CLASSES": len(content.classes), "LEVELS": LEVEL_CAP, "SKILLS": len(content.spells),
        "QUEST SYSTEM": "Automated", "EQUIPMENT SYSTEM": "Level"}
    assert len(content.zones) >= 3 and len(content.rooms) > 30 and len(content.mobs) > 10
