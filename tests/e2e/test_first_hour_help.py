"""End to end over a real WebSocket: what a newcomer receives from help, from a typo and
from a long `say` (help pages as plain text, "Did you mean ...?", the cut told)."""

from __future__ import annotations

from conftest import StartServer, ws_url
from wsclient import Client, events


async def test_help_pages_arrive_as_plain_text_and_typos_get_a_suggestion(
        start_server: StartServer) -> None:
    server = await start_server()
    c = await Client.open(ws_url(server), "aegent.json")
    await c.recv()
    await c.register("Newt")

    for topic in ("newbie", "rules", "death", "level"):
        got = await c.command(f"help {topic}")
        shown = events(got, "help_shown")[0]
        assert shown["data"]["format"] == "markdown"  # structured clients get the Markdown,
        assert shown["data"]["body"].startswith("# ")  # people the text made from it
        for mark in ("**", "`", "# ", "| ---"):
            assert mark not in shown["text"], (topic, mark)

    got = await c.command("help combat")
    text = events(got, "help_shown")[0]["text"]
    assert "kill" in text and "Attack someone in the room" in text

    got = await c.command("help 'magic missile'")
    assert events(got, "help_shown")[0]["data"]["topic"] == "magic missile"

    got = await c.command("lok")
    assert got[-1]["ok"] is False and got[-1]["error"]["code"] == "unknown_command"
    assert "Did you mean 'look'" in got[-1]["error"]["message"]

    got = await c.command("say " + "blah " * 600)
    said = events(got, "said")[0]["data"]["text"]
    assert len(said) == 500
    assert events(got, "message")[-1]["text"] == "(Your words were cut to 500 characters.)"
    assert got[-1]["ok"] is True
    await c.close()
