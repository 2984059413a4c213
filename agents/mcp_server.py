"""`aegent mcp`: one character of the game as an MCP server over stdio.

Any MCP-capable agent (Claude Desktop, an IDE, an agent framework) can play
through it. It is a client of the game protocol only (`agents/client.py`, the
`aegent.msgpack` subprotocol): it logs in (an agent's API key, or a person's
name and password), asks once for the tool list (`{"type": "tools", "all": true}`)
and serves, with the `mcp` package's low-level server:

- every game command the character's role has as an MCP tool, in the server's
  (declaration) order, fixed for the life of the process (current MCP expects a
  stable tool list). The input schema is the command's JSON Schema. A call sends
  a `call` and answers with the text and the structured events the command
  produced up to its `result`; a command the key's scopes or the role do not
  allow (or any other refusal) answers with an error result (`isError`) that
  carries the server's code and message;
- `wait_for_events`: the events that arrived since the last call (those that a
  tool call already returned are not repeated), waiting for at least one up to
  a timeout, so an agent need not poll;
- the resource `aegent://observation`: the server's `observation` (room, vitals,
  inventory, quests, the actions that make sense now) as JSON, and the resource
  template `aegent://help/{topic}`: a help page as text.

The transport is stdio, so stdout carries MCP messages only: logs go to stderr.
It serves both MCP protocol eras the SDK speaks (the `initialize` handshake up
to 2025-11-25 and the per-request envelope of 2026-07-28, the current revision);
the client's first request picks one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections import deque
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

import mcp_types as types
import structlog
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS

from agents.client import (
    ClientError,
    ConnectionLost,
    Credentials,
    GameClient,
    Result,
    split_urls,
)

OBSERVATION_URI = "aegent://observation"
HELP_TEMPLATE = "aegent://help/{topic}"
HELP_PREFIX = "aegent://help/"
WAIT_TOOL = "wait_for_events"
MAX_WAIT_SECONDS = 60.0
DEFAULT_WAIT_SECONDS = 10.0
DEFAULT_MAX_EVENTS = 50
MAX_EVENTS = 500
RECONNECT_WAIT_SECONDS = 5.0  # a call while the game connection is down waits this long
_SEEN_LIMIT = 5000  # seq numbers of events already returned by tool calls

RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "ok": {"type": "boolean", "description": "whether the server carried the command out"},
        "error": {"type": "object", "description": "the refusal: a stable code and a message",
                  "properties": {"code": {"type": "string"}, "message": {"type": "string"}}},
        "events": {"type": "array", "items": {"type": "object"},
                   "description": "the events it caused, as the protocol sends them"},
    },
    "required": ["ok", "events"],
}

WAIT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "timeout": {"type": "number", "minimum": 0, "maximum": MAX_WAIT_SECONDS,
                    "description": "seconds to wait for at least one event "
                                   f"(default {DEFAULT_WAIT_SECONDS:g})"},
        "max_events": {"type": "integer", "minimum": 1, "maximum": MAX_EVENTS,
                       "description": "return at most this many; the rest wait for the "
                                      f"next call (default {DEFAULT_MAX_EVENTS})"},
    },
    "additionalProperties": False,
}

WAIT_RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "events": {"type": "array", "items": {"type": "object"}},
        "more": {"type": "integer", "description": "events left for the next call"},
        "dropped": {"type": "integer",
                    "description": "events lost because nobody read them in time (total)"},
    },
    "required": ["events", "more", "dropped"],
}

INSTRUCTIONS = """\
You play one character in Aegent Quest, a multi-user dungeon shared with people and
other agents in real time. Each tool is a game command; its result has the text and
the events it caused. The world goes on between your calls: call wait_for_events to
hear what happens (people talking, monsters attacking) and read the resource
aegent://observation for the full picture (room, exits, vitals, inventory, the
actions that make sense now). A refused command changed nothing; its error says why.
Be civil: people play here too, and you are shown to them as an AI."""


class Bridge:
    """The state behind the MCP handlers: the game connection, the fixed tool list and
    the events not handed out yet."""

    def __init__(self, client: GameClient, game_tools: Sequence[dict[str, Any]]) -> None:
        self.client = client
        self.game_tools = {str(t["name"]): dict(t) for t in game_tools if t.get("name")}
        self.tools = [self._mcp_tool(t) for t in self.game_tools.values()] + [_wait_tool()]
        self.backlog: deque[dict[str, Any]] = deque()
        self.seen: dict[int, None] = {}  # seq of events a tool call already returned
        self.log: Any = structlog.get_logger("aegent.mcp")

    @staticmethod
    def _mcp_tool(tool: dict[str, Any]) -> types.Tool:
        description = str(tool.get("description") or tool["name"])
        lines = [str(e.get("line")) for e in tool.get("examples") or [] if e.get("line")]
        if lines:
            description += " Typed as: " + "; ".join(f"`{line}`" for line in lines) + "."
        if tool.get("allowed") is False:
            description += " (Your API key does not grant this; calls are refused.)"
        schema = tool.get("parameters") or {"type": "object", "properties": {}}
        meta = {f"aegent/{k}": tool[k] for k in ("category", "scope", "role", "allowed")
                if k in tool}
        return types.Tool(name=str(tool["name"]), description=description, input_schema=schema,
                          output_schema=RESULT_SCHEMA, _meta=meta)

    # ---- tools ---------------------------------------------------------------------

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """Run one MCP tool: `wait_for_events` or a game command."""
        if name == WAIT_TOOL:
            return await self.wait_for_events(arguments)
        if name not in self.game_tools:
            raise MCPError(INVALID_PARAMS, f"Unknown tool: {name[:60]}")
        if not await self._connected():
            return _error_result("connection_lost", self._lost(ConnectionLost(
                "not connected; the client keeps trying")))
        try:
            # The client waits for a lost connection to come back before it sends: bound
            # that wait too, so the host always gets an answer.
            result = await asyncio.wait_for(self.client.call(name, arguments),
                                            self.client.request_timeout + 5.0)
        except (ConnectionLost, TimeoutError) as exc:
            return _error_result("connection_lost", self._lost(exc))
        for event in result.events:
            seq = event.get("seq")
            if isinstance(seq, int):
                self.seen[seq] = None
        while len(self.seen) > _SEEN_LIMIT:
            del self.seen[next(iter(self.seen))]
        self.log.info("tool_called", tool=name, ok=result.ok, code=result.code or None)
        return _command_result(result)

    async def _connected(self) -> bool:
        """Whether the game connection is up, waiting a little for a reconnection."""
        if self.client.connected.is_set():
            return True
        try:
            await asyncio.wait_for(self.client.connected.wait(), RECONNECT_WAIT_SECONDS)
        except TimeoutError:
            return False
        return True

    def _lost(self, exc: Exception) -> str:
        reason = "no answer in time" if isinstance(exc, TimeoutError) else str(exc)
        message = (f"The game did not answer ({reason}); the command may have run. "
                   "Read aegent://observation and try again.")
        if not self.client.connected.is_set() and self.client.errors:
            last = self.client.errors[-1]  # why the server closed, e.g. key_revoked
            message += f" The server said: {last.get('code')}: {last.get('message')}"
        return message

    async def wait_for_events(self, arguments: dict[str, Any]) -> types.CallToolResult:
        """Events since the last call, waiting up to `timeout` for the first one."""
        timeout = _number(arguments.get("timeout"), DEFAULT_WAIT_SECONDS, 0.0, MAX_WAIT_SECONDS,
                          "timeout")
        limit = int(_number(arguments.get("max_events"), DEFAULT_MAX_EVENTS, 1, MAX_EVENTS,
                            "max_events"))
        extra = sorted(set(arguments) - {"timeout", "max_events"})
        if extra:
            raise MCPError(INVALID_PARAMS, f"{WAIT_TOOL}: unknown argument(s) {', '.join(extra)}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.backlog:
            left = deadline - loop.time()
            got = await self.client.next_events(max(left, 0.0))
            self._take(got)
            if not got or left <= 0:
                break
        out = [self.backlog.popleft() for _ in range(min(limit, len(self.backlog)))]
        text = "\n".join(_event_line(e) for e in out) or f"(nothing happened in {timeout:g} s)"
        data = {"events": out, "more": len(self.backlog), "dropped": self.client.dropped_events}
        return types.CallToolResult(content=[types.TextContent(text=text)],
                                    structured_content=data)

    def _take(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            if event.get("type") == "reconnected":
                self.seen.clear()  # sequence numbers start over on a new connection
                self.backlog.append(event)
                continue
            seq = event.get("seq")
            if isinstance(seq, int) and seq in self.seen:
                del self.seen[seq]  # the tool call that caused it returned it already
                continue
            self.backlog.append(event)

    # ---- resources -------------------------------------------------------------------

    async def read_resource(self, uri: str) -> types.ReadResourceResult:
        """The observation as JSON, or a help page as text."""
        if uri == OBSERVATION_URI:
            try:
                observation = await asyncio.wait_for(self.client.observe(),
                                                     self.client.request_timeout + 5.0)
            except ClientError as exc:
                raise MCPError(INVALID_PARAMS, f"{exc.code}: {exc.message}") from None
            except (ConnectionLost, TimeoutError) as exc:
                raise MCPError(INTERNAL_ERROR, self._lost(exc)) from None
            body = {k: v for k, v in observation.items() if k not in ("type", "id")}
            return types.ReadResourceResult(contents=[types.TextResourceContents(
                uri=uri, mime_type="application/json", text=json.dumps(body))])
        if uri.startswith(HELP_PREFIX) and len(uri) > len(HELP_PREFIX):
            topic = unquote(uri[len(HELP_PREFIX):])[:60]
            try:
                result = await asyncio.wait_for(self.client.call("help", {"topic": topic}),
                                                self.client.request_timeout + 5.0)
            except (ConnectionLost, TimeoutError) as exc:
                raise MCPError(INTERNAL_ERROR, self._lost(exc)) from None
            if not result.ok:
                raise MCPError(INVALID_PARAMS, result.message or f"No help on {topic!r}.")
            return types.ReadResourceResult(contents=[types.TextResourceContents(
                uri=uri, mime_type="text/plain", text=result.text)])
        raise MCPError(INVALID_PARAMS, f"Unknown resource: {uri[:80]}")

    def resources(self) -> list[types.Resource]:
        """The fixed resources."""
        return [types.Resource(
            uri=OBSERVATION_URI, name="observation", mime_type="application/json",
            description="What your character knows now: room, exits, who and what is here, "
                        "vitals, inventory, equipment, quests, and the actions that make "
                        "sense now (JSON; docs/protocol.md, `observation`).")]

    def server(self) -> Server[Any]:
        """The MCP low-level server with this bridge's handlers."""

        async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None
                             ) -> types.ListToolsResult:
            return types.ListToolsResult(tools=self.tools)

        async def call_tool(ctx: Any, params: types.CallToolRequestParams
                            ) -> types.CallToolResult:
            return await self.call_tool(params.name, dict(params.arguments or {}))

        async def list_resources(ctx: Any, params: types.PaginatedRequestParams | None
                                 ) -> types.ListResourcesResult:
            return types.ListResourcesResult(resources=self.resources())

        async def list_templates(ctx: Any, params: types.PaginatedRequestParams | None
                                 ) -> types.ListResourceTemplatesResult:
            return types.ListResourceTemplatesResult(resource_templates=[types.ResourceTemplate(
                uri_template=HELP_TEMPLATE, name="help", mime_type="text/plain",
                description="The game's help on a command or topic, e.g. aegent://help/kill")])

        async def read_resource(ctx: Any, params: types.ReadResourceRequestParams
                                ) -> types.ReadResourceResult:
            return await self.read_resource(str(params.uri))

        name = str(self.client.character.get("name") or "character")
        return Server(
            "aegent-quest", version="1", title=f"Aegent Quest: {name}",
            instructions=INSTRUCTIONS,
            on_list_tools=list_tools, on_call_tool=call_tool,
            on_list_resources=list_resources, on_list_resource_templates=list_templates,
            on_read_resource=read_resource,
        )


def _wait_tool() -> types.Tool:
    return types.Tool(
        name=WAIT_TOOL, input_schema=WAIT_SCHEMA, output_schema=WAIT_RESULT_SCHEMA,
        description="Wait for what happens in the game: returns the events that arrived since "
                    "the last call (not those a tool call already returned), waiting up to "
                    "`timeout` seconds for at least one.",
        annotations=types.ToolAnnotations(read_only_hint=True))


def _number(value: Any, default: float, low: float, high: float, name: str) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MCPError(INVALID_PARAMS, f"{WAIT_TOOL}: '{name}' must be a number")
    return min(max(float(value), low), high)


def _event_line(event: dict[str, Any]) -> str:
    if event.get("type") == "reconnected":
        return "(the connection to the game dropped and was made again)"
    text = event.get("text")
    if text:
        return str(text)
    return f"[{event.get('name')}] {json.dumps(event.get('data') or {})}"


def _command_result(result: Result) -> types.CallToolResult:
    data: dict[str, Any] = {"ok": result.ok, "events": result.events}
    if not result.ok:
        data["error"] = {"code": result.code, "message": result.message}
    text = result.text or ("OK" if result.ok else f"Refused ({result.code}).")
    if not result.ok:
        text += f"\n[error {result.code}]"
    return types.CallToolResult(content=[types.TextContent(text=text)], structured_content=data,
                                is_error=not result.ok)


def _error_result(code: str, message: str) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(text=f"{message}\n[error {code}]")],
        structured_content={"ok": False, "events": [], "error": {"code": code,
                                                                 "message": message}},
        is_error=True)


# ---- the command line -------------------------------------------------------------------


def credentials(args: argparse.Namespace) -> Credentials:
    """The login from the flags and environment.

    Raises:
        ValueError: neither an API key nor a name and password.
    """
    api_key = args.api_key or os.environ.get("AEGENT_API_KEY")
    if api_key:
        key_id = api_key.split("_")[1] if api_key.count("_") >= 2 else "key"
        return Credentials(name=f"key:{key_id}", api_key=api_key)
    password = args.password or os.environ.get("AEGENT_PASSWORD")
    if not args.name or not password:
        raise ValueError("give --api-key (or AEGENT_API_KEY), or --name and --password "
                         "(or AEGENT_PASSWORD)")
    return Credentials(name=args.name, password=password, cls=args.cls)


def _configure_logs(level: str) -> None:
    lvl = logging.getLevelNamesMapping().get(level.upper(), logging.WARNING)
    structlog.configure(
        processors=[structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso", utc=True),
                    structlog.dev.ConsoleRenderer(colors=False)],
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=lvl, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")


async def serve(client: GameClient) -> None:
    """Log in with `client`, fetch the tool list, and serve MCP over stdio until stdin
    closes."""
    await client.connect()
    try:
        game_tools = await client.tools(every=True)
        bridge = Bridge(client, game_tools)
        server = bridge.server()
        bridge.log.info("mcp_serving", character=client.character.get("name"),
                        tools=len(bridge.tools))
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())
    finally:
        await client.close()


def main(args: argparse.Namespace) -> int:
    """`aegent mcp`: exit status 0 when the MCP client hangs up, 1 when the login fails,
    2 for bad flags."""
    _configure_logs(args.log_level)
    try:
        creds = credentials(args)
    except ValueError as exc:
        print(f"aegent mcp: {exc}", file=sys.stderr)
        return 2
    client = GameClient(split_urls(args.server), creds, register=bool(args.register))
    try:
        asyncio.run(serve(client))
    except ClientError as exc:
        print(f"aegent mcp: login refused: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"aegent mcp: cannot reach {args.server}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0
