"""Deterministic replay (server/host/replay.py): a session recorded into the journal and
replayed into a fresh world of the same seed gives the same events, byte for byte; a
changed seed or a dropped input does not.

The session is played as the live server plays one (server/app.py): each input is
journaled first, then applied to the World, and what the World delivers is recorded.
A warrior and a mage in the starter world take Marta's rat quest, clear the stable,
the cellar and the cistern, hand the quest in, then hunt past the town gate until both
reach level 2; the mage loses its link and comes back, the warrior quits. The script
looks at the world to choose its next line, as a player would: only its lines (and
the ticks) are inputs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import starter_content

from server.bus.messages import (
    AdminInput,
    Call,
    Command,
    Enter,
    Input,
    Leave,
    LinkLost,
    Tick,
)
from server.host.journal import FileJournal
from server.host.replay import (
    EventRecord,
    Replayer,
    ReplayError,
    answer_record,
    canonical,
    event_records,
    replay,
    stream_hash,
)
from world.commands.registry import Call as WorldCall
from world.entities import Character, Kind
from world.errors import Refused
from world.world import World

SEED = 7
ROOT = Path(__file__).resolve().parents[2]


class Live:
    """The live server's order of work, without the network: journal, apply, record."""

    def __init__(self, journal: FileJournal, seed: int = SEED) -> None:
        self.journal = journal
        self.world = World(starter_content(), seed=seed)
        self.world.drain()
        self.records: list[EventRecord] = []

    def _journal(self, entry: Input) -> int:
        return self.journal.append_now(entry, key=f"host:{self.journal.last + 1}")

    def enter(self, name: str, cls: str) -> Character:
        seq = self._journal(Enter("gw", f"s-{name}", name, "player", cls, created=True))
        ch = self.world.enter(name, cls)
        self._record(seq)
        return ch

    def back(self, ch: Character) -> None:
        seq = self._journal(Enter("gw", f"s-{ch.name}-2", ch.name, "player", ch.cls))
        self.world.set_linkdead(ch, False)
        self._record(seq)

    def do(self, ch: Character, line: str) -> bool:
        seq = self._journal(Command("gw", f"s-{ch.name}", ch.id, line))
        refusal = self.world.perform_line(ch, line)
        self._record(seq)
        self.records.append(answer_record(ch, refusal, seq, self.world.time))
        return refusal is None

    def call(self, ch: Character, tool: str, **args: object) -> None:
        seq = self._journal(Call("gw", f"s-{ch.name}", ch.id, tool, dict(args)))
        refusal = self.world.perform(ch, WorldCall(tool, args))
        self._record(seq)
        self.records.append(answer_record(ch, refusal, seq, self.world.time))

    def link_lost(self, ch: Character) -> None:
        seq = self._journal(LinkLost("gw", f"s-{ch.name}", ch.id))
        self.world.set_linkdead(ch, True)
        self._record(seq)

    def leave(self, ch: Character) -> None:
        seq = self._journal(Leave("gw", f"s-{ch.name}", ch.id, "quit"))
        self.world.leave(ch, "quit")
        self._record(seq)

    def tick(self, n: int = 1) -> None:
        for _ in range(n):
            seq = self._journal(Tick(self.world.time + 1))
            self.world.tick()
            self._record(seq)

    def _record(self, seq: int) -> None:
        self.records.extend(event_records(self.world.drain(), seq, self.world.time))


def play_session(live: Live) -> tuple[Character, Character]:
    """The scripted session (see the module's docstring); the warrior and the mage."""
    world = live.world
    ann = live.enter("Ann", "warrior")
    bob = live.enter("Bob", "mage")

    def foes(word: str) -> bool:
        return any(m.kind is Kind.MOB and word in m.name
                   for m in world.rooms[ann.room].characters)

    def fighting() -> bool:
        return ann.id in world.fighters or bob.id in world.fighters

    def heal() -> None:
        if ann.hp < ann.max_hp * 0.6 or bob.hp < bob.max_hp * 0.6:
            live.do(ann, "rest")
            live.do(bob, "rest")
            while ann.hp < ann.max_hp * 0.9 or bob.hp < bob.max_hp * 0.9:
                live.tick(10)
            live.do(ann, "stand")
            live.do(bob, "stand")

    def hunt(word: str) -> None:
        for _ in range(400):
            if not fighting():
                if not foes(word):
                    break
                live.do(ann, f"kill {word}")
            if bob.mana >= 5 and bob.id not in world.fighters:
                live.call(bob, "cast", spell="magic missile", target=word)
            live.tick(10)
        live.tick(20)
        live.do(ann, "get all corpse")
        live.do(bob, "get all corpse")
        heal()

    def go(*directions: str) -> None:
        for direction in directions:
            live.do(ann, direction)
            live.tick(3)

    live.do(bob, "follow ann")
    live.do(ann, "group bob")
    go("west")
    live.do(ann, "quest accept rats")
    live.do(bob, "quest accept rats")
    go("south")
    hunt("rat")
    live.do(ann, "get key")
    go("north")
    live.do(ann, "unlock trapdoor")
    live.do(ann, "open trapdoor")
    go("down")
    hunt("rat")
    go("east")
    hunt("rat")
    go("west", "up")
    live.do(ann, "quest complete")
    live.do(bob, "quest complete")
    go("south", "southeast")
    live.do(ann, "open gate")
    go("south", "east")
    hunt("rabbit")
    go("east", "north")
    for word in ("rat", "owl"):
        hunt(word)
    go("south")
    for word in ("frog", "goose"):
        if ann.level < 2 or bob.level < 2:
            hunt(word)
    live.do(ann, "inventory")
    live.link_lost(bob)
    live.tick(5)
    live.back(bob)
    live.do(bob, "score")
    live.leave(ann)
    live.tick(10)
    return ann, bob


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[EventRecord]]:
    """The session, journaled in a folder; its live event records."""
    folder = tmp_path_factory.mktemp("journal")
    with FileJournal(folder) as journal:
        live = Live(journal)
        ann, bob = play_session(live)
    assert ann.level == 2 and bob.level == 2
    return folder, live.records


def inputs(folder: Path) -> list[tuple[int, Input]]:
    with FileJournal(folder) as journal:
        return [(r.seq, r.entry) for r in journal.read()]


def test_the_session_has_fights_spells_loot_and_level_ups(
        recorded: tuple[Path, list[EventRecord]]) -> None:
    folder, records = recorded
    seen = Counter(r["event"] for r in records)
    for name in ("fight_started", "hit_landed", "spell_cast", "spell_hit", "died",
                 "item_moved", "gold_changed", "quest_completed", "xp_gained"):
        assert seen[name] > 0, name
    levels = [(r["to"], r["data"]["level"]) for r in records if r["event"] == "level_gained"]
    assert levels == [("Ann", 2), ("Bob", 2)] or levels == [("Bob", 2), ("Ann", 2)]
    kinds = Counter(type(e).__name__ for _, e in inputs(folder))
    assert set(kinds) == {"Enter", "Command", "Call", "Tick", "LinkLost", "Leave"}
    assert kinds["Tick"] > 300


def test_replaying_the_journal_gives_the_same_events_byte_for_byte(
        recorded: tuple[Path, list[EventRecord]]) -> None:
    folder, records = recorded
    again = list(replay(starter_content(), SEED, inputs(folder)))
    assert [canonical(r) for r in again] == [canonical(r) for r in records]
    assert stream_hash(again) == stream_hash(records)


def test_another_process_replays_it_to_the_same_hash(
        recorded: tuple[Path, list[EventRecord]]) -> None:
    """Offline, in a fresh interpreter with another string hash seed (so no set or
    dict order of this process can hide in the result), as `aegent replay` will."""
    folder, records = recorded
    script = (
        "import sys\n"
        "from server.host import content\n"
        "from server.config import default_content_dir\n"
        "from server.host.journal import FileJournal\n"
        "from server.host.replay import replay, stream_hash\n"
        "with FileJournal(sys.argv[1]) as j:\n"
        "    entries = [(r.seq, r.entry) for r in j.read()]\n"
        "print(stream_hash(replay(content.load(default_content_dir()), int(sys.argv[2]), "
        "entries)))\n")
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    done = subprocess.run([sys.executable, "-c", script, str(folder), str(SEED)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == stream_hash(records)


def test_another_seed_or_a_dropped_input_changes_the_hash(
        recorded: tuple[Path, list[EventRecord]]) -> None:
    folder, records = recorded
    entries = inputs(folder)
    expected = stream_hash(records)
    for seed in (SEED + 1, 0):  # the ids the world hands out differ too: the journal's
        try:                    # first command may name nobody then
            other = stream_hash(replay(starter_content(), seed, entries))
        except ReplayError:
            other = "diverged"
        assert other != expected
    spell = next(i for i, (_, e) in enumerate(entries) if isinstance(e, Call))
    dropped = entries[:spell] + entries[spell + 1:]
    assert stream_hash(replay(starter_content(), SEED, dropped)) != expected
    tick = next(i for i, (_, e) in enumerate(entries) if isinstance(e, Tick))
    with pytest.raises(ReplayError, match="tick"):  # a missing tick is caught at once
        list(replay(starter_content(), SEED, entries[:tick] + entries[tick + 1:]))


def test_inputs_that_do_not_fit_the_world_are_refused() -> None:
    engine = Replayer(starter_content(), SEED)
    with pytest.raises(ReplayError, match="not in the world"):
        engine.apply(Command("gw", "s", 99, "look"), 1)
    engine.apply(Enter("gw", "s", "Ann", "player", "warrior"), 2)
    with pytest.raises(ReplayError, match="already in the world"):
        engine.apply(Enter("gw", "s", "Ann", "player", "warrior", state={"level": 2}), 3)
    with pytest.raises(ReplayError, match="admin"):
        engine.apply(AdminInput("root", "broadcast", {"text": "hi"}), 4)


def test_an_admin_handler_applies_admin_inputs_and_crashes_are_answered() -> None:
    seen: list[str] = []
    engine = Replayer(starter_content(), SEED,
                      admin=lambda world, entry: seen.append(entry.action))
    engine.apply(AdminInput("root", "reload"), 1)
    assert seen == ["reload"]
    engine.apply(Enter("gw", "s", "Ann", "admin", "warrior"), 2)
    ann = engine.world.characters["ann"]
    assert ann.role.value == "admin"

    def boom(actor: Character, line: str) -> Refused | None:
        raise RuntimeError("a bug in a command")

    engine.world.perform_line = boom  # type: ignore[method-assign]
    out = engine.apply(Command("gw", "s", ann.id, "look"), 3)
    assert out[-1] == {"seq": 3, "tick": 0, "to": "Ann", "event": "answer",
                       "data": {"ok": False, "code": "internal_error",
                                "message": "Something went wrong; it has been logged."}}


def test_records_are_json_lines(recorded: tuple[Path, list[EventRecord]]) -> None:
    _, records = recorded
    lines: Iterator[bytes] = (canonical(r) for r in records)
    for line in lines:
        assert line.endswith(b"\n") and line.count(b"\n") == 1
