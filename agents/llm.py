"""`LLMPolicy`: an agent played by a model behind any OpenAI-compatible endpoint.

One `decide` is one Chat Completions call (`openai.AsyncOpenAI`): the server's tools
as function definitions, `parallel_tool_calls=True`; each tool call the model makes
becomes an `Action` (a call with an unknown tool or arguments that are not a JSON
object fitting the tool's schema is dropped, logged, and answered to the model as
an error). The runtime reports what each action led to (`Observation.outcomes`);
those go back to the model on the next call as `tool` messages with the matching
`tool_call_id`.

Reliability: 429, 5xx, timeouts and connection errors are retried with exponential
back-off and jitter, honouring `Retry-After` / `retry-after-ms` (capped); after
`RetryPolicy.tries` attempts, or on any other error, the turn yields no actions and
a log line (the agent goes on; the next event brings another try).

Context: the prompt is laid out for provider prefix caching (see agents/prompting.py)
and kept under `budget_tokens`: when it would not fit, the oldest turns are dropped
(down to `low_water` of the budget, so the prefix changes seldom) and folded into a
one-line summary. Usage (prompt, completion and cached prompt tokens) is summed.

Metering (optional): with a `Meter` (the runtime's `GameClient` when logged in with
an agent's API key), every call reserves its worst case first (the prompt estimate
with a margin, plus the completion cap, `METERED_COMPLETION_CAP` unless
`max_completion_tokens` is given) and settles with the reply's real `usage` after.
A refused reservation raises `agents.client.BudgetExceeded` out of `decide`: the
runtime then falls back to the scripted policy or stops, as the server said.

Its owner's tells (an agent account; agents/owner.py): `answer_owner` asks the model
for a short answer in one metered call without tools, the owner's words quoted as
data; the runtime tells it back (an A2A message waits for it, server/host/a2a.py).

Memory (optional): with a `MemoryStore`, the top memories for the situation are
shown as quoted data, and notable outcomes (levels, losses, new rooms, refusals)
are stored.

Configuration comes through the constructor; the runner passes `--model`. The
endpoint and key default to the openai client's own `OPENAI_BASE_URL` and
`OPENAI_API_KEY` (a placeholder key is used when none is set, for local servers).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import random
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import openai
import structlog

from agents import prompting
from agents.client import ClientError, ConnectionLost
from agents.contracts import Action, Memory, MemoryStore, Observation, Outcome, Usage
from agents.owner import answer_messages

# Tools an agent has no business calling; an injected "type quit" can't reach them.
DEFAULT_EXCLUDED_TOOLS = ("alias", "color", "password", "prompt", "quit", "unalias")


METERED_COMPLETION_CAP = 1024
"""Completion tokens a metered call may use when no `max_completion_tokens` is given
(the worst case a reservation holds must be a real bound)."""

PROMPT_MARGIN = 1.25
"""The prompt estimate (about 4 characters a token) times this, for the worst case."""


class Meter(Protocol):
    """Where model usage is reserved and settled (`agents.client.GameClient`)."""

    async def usage_reserve(self, model: str, max_tokens: int) -> str:
        """Reserve `max_tokens`; returns the reservation (raises `BudgetExceeded`)."""
        ...

    async def usage_settle(self, reservation: str, model: str, prompt_tokens: int,
                           completion_tokens: int, cached_tokens: int = 0) -> dict[str, Any]:
        """Release the reservation, recording the real usage."""
        ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How failed model calls are retried.

    Attributes:
        tries: attempts in all (the first one included) before the turn is given up.
        base_delay: the back-off before the first retry, doubled for each next one.
        max_delay: the back-off never exceeds this.
        max_retry_after: a server's `Retry-After` is honoured up to this many seconds.
    """

    tries: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 60.0

    def backoff(self, failures: int, rng: random.Random) -> float:
        """Delay after `failures` failed attempts (1, 2...): half fixed, half jitter."""
        cap = min(self.max_delay, self.base_delay * 2.0 ** (failures - 1))
        return cap / 2 + rng.uniform(0, cap / 2)


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds a `Retry-After` (seconds or HTTP date) or `retry-after-ms` header asks for."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            value = float(ms) / 1000
        except ValueError:
            value = -1.0
        if value >= 0:
            return value
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        value = when.timestamp() - time.time()
    return max(0.0, value)


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # timeouts included
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return False


def check_call(name: str, arguments: str | None,
               tools: Mapping[str, Mapping[str, Any]]) -> tuple[dict[str, Any] | None, str]:
    """The arguments of a model's tool call, checked against the tool's schema.

    Returns (args, "") when the call can be sent, else (None, why not). The checks
    are the ones a model gets wrong: unknown tool, not JSON, not an object, missing
    required or unknown parameters, wrong basic types, a value outside an enum.
    The server checks everything again.
    """
    tool = tools.get(name)
    if tool is None:
        return None, f"unknown tool {name!r}"
    try:
        args = json.loads(arguments) if arguments and arguments.strip() else {}
    except json.JSONDecodeError as exc:
        return None, f"arguments are not valid JSON ({exc.msg})"
    if not isinstance(args, dict):
        return None, "arguments must be a JSON object"
    schema = tool.get("parameters") or {}
    props: Mapping[str, Any] = schema.get("properties") or {}
    missing = [p for p in schema.get("required") or [] if p not in args]
    if missing:
        return None, f"missing required argument(s): {', '.join(missing)}"
    if schema.get("additionalProperties") is False:
        unknown = [k for k in args if k not in props]
        if unknown:
            return None, f"unknown argument(s): {', '.join(unknown)}"
    kinds: dict[str, tuple[type, ...]] = {
        "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
        "object": (dict,), "array": (list,)}
    for key, value in args.items():
        spec = props.get(key)
        if not isinstance(spec, Mapping):
            continue
        want = kinds.get(str(spec.get("type")))
        bad_bool = isinstance(value, bool) and spec.get("type") in ("integer", "number")
        if want is not None and (not isinstance(value, want) or bad_bool):
            return None, f"argument {key!r} must be a {spec.get('type')}"
        if "enum" in spec and value not in spec["enum"]:
            return None, f"argument {key!r} must be one of {spec['enum']}"
    return args, ""


@dataclass(slots=True)
class _Call:
    """One tool call of the model: sent as `action`, or dropped with `error`."""

    id: str
    action: Action | None
    error: str = ""


@dataclass(slots=True)
class _Turn:
    """One past exchange: the observation's note, the model's reply, the results."""

    number: int
    note: str
    room: str
    assistant: dict[str, Any]
    calls: list[_Call]
    results: list[dict[str, Any]] = field(default_factory=list)

    def messages(self, head: str = "") -> list[dict[str, Any]]:
        text = f"{head}\n\n{self.note}" if head else self.note
        return [{"role": "user", "content": text}, self.assistant, *self.results]


@dataclass(slots=True)
class _Summary:
    """What the dropped turns did, folded into one line."""

    first: int = 0
    last: int = 0
    tools: Counter[str] = field(default_factory=Counter)
    rooms: list[str] = field(default_factory=list)

    def add(self, turn: _Turn) -> None:
        self.first = self.first or turn.number
        self.last = turn.number
        for call in turn.calls:
            if call.action is not None:
                self.tools[call.action.tool] += 1
        if turn.room and (not self.rooms or self.rooms[-1] != turn.room):
            self.rooms.append(turn.room)
            del self.rooms[:-8]

    def line(self, max_chars: int = 400) -> str:
        if not self.last:
            return ""
        did = ", ".join(f"{t} x{n}" for t, n in self.tools.most_common(8)) or "nothing"
        text = (f"Earlier (turns {self.first}-{self.last}, no longer shown): you called {did}; "
                f"rooms, last ones: {' > '.join(self.rooms) or 'unknown'}.")
        return text[:max_chars]


class LLMPolicy:
    """A `Policy` that asks a chat model for tool calls (see the module docstring)."""

    name = "llm"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        client: openai.AsyncOpenAI | None = None,
        budget_tokens: int = 16000,
        low_water: float = 0.7,
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
        temperature: float | None = None,
        max_completion_tokens: int | None = None,
        exclude_tools: Iterable[str] = DEFAULT_EXCLUDED_TOOLS,
        memory: MemoryStore | None = None,
        memory_k: int = 5,
        result_chars: int = 1200,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        seed: int | None = None,
        meter: Meter | None = None,
    ) -> None:
        self.model = model
        self.meter = meter  # set by the runtime once logged in with an API key
        self._own_client = client is None
        self.client = client or openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or os.environ.get("OPENAI_API_KEY") or "not-needed",
            max_retries=0,  # we retry ourselves: back-off, jitter, Retry-After, a log line
            timeout=timeout,
        )
        self.budget_tokens = budget_tokens
        self.low_water = low_water
        self.retry = retry or RetryPolicy()
        self.temperature = temperature
        self.max_completion_tokens = max_completion_tokens
        self.exclude_tools = tuple(exclude_tools)
        self.memory = memory
        self.memory_k = memory_k
        self.result_chars = result_chars
        self._clock = clock
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._usage = Usage()
        self._turn = 0
        self._history: deque[_Turn] = deque()
        self._pending: _Turn | None = None
        self._summary = _Summary()
        self._speech: deque[tuple[str, str]] = deque(maxlen=200)
        self._tools_key: str = ""
        self._functions: list[dict[str, Any]] = []
        self._schemas: dict[str, Mapping[str, Any]] = {}
        self._seen_rooms: set[str] = set()
        self._last_vitals: dict[str, Any] = {}
        self._name = ""
        self._obs_note = ""
        self._obs_room = ""
        self._unsettled: list[tuple[str, int, int, int]] = []  # settles the server missed
        self.calls = 0  # model calls that returned
        self.failures = 0  # turns given up
        self.log: Any = structlog.get_logger("aegent.agents").bind(policy="llm", model=model)

    # -- the Policy protocol ---------------------------------------------------------

    def usage(self) -> Usage:
        """Tokens spent so far (cached prompt tokens are part of prompt_tokens)."""
        return self._usage

    async def decide(self, obs: Observation) -> Sequence[Action]:
        """One model call: the fresh observation in, the model's tool calls out."""
        if obs.name:
            self.log = self.log.bind(agent=obs.name)
        self._hear(obs)
        self._set_tools(obs.tools)
        self._close_pending(obs.outcomes)
        memories = await self._remember(obs)
        self._turn += 1
        final = self._final_message(obs, memories)
        messages = self._fit(final)
        reservation = await self._reserve(messages)
        reply = await self._complete(messages)
        if reservation is not None:
            await self._settle(reservation, reply, messages)
        if reply is None:
            return []
        try:
            return self._take(reply, obs)
        except (AttributeError, TypeError, IndexError) as exc:  # a reply not shaped as documented
            self.failures += 1
            self.log.error("llm_reply_unreadable", error=repr(exc)[:300])
            return []

    async def answer_owner(self, obs: Observation, owner: str, asked: Sequence[str]
                           ) -> str | None:
        """A short answer in the model's words to what the agent's owner told it (the
        runtime tells it back, agents/owner.py): one call without tools, metered like
        every call. None when the call fails (the runtime answers with the status line).

        Raises:
            BudgetExceeded: the server refused the reservation.
        """
        messages = answer_messages(obs, owner, asked)
        reservation = await self._reserve(messages)
        reply: Any | None = None
        kwargs: dict[str, Any] = {
            "model": self.model, "messages": messages,
            "max_completion_tokens": self._completion_cap() or METERED_COMPLETION_CAP}
        try:
            reply = await self.client.chat.completions.create(**kwargs)
        except openai.OpenAIError as exc:
            self.failures += 1
            self.log.error("llm_answer_failed", error=str(exc)[:300])
        if reservation is not None:
            await self._settle(reservation, reply, messages)
        if reply is None or not reply.choices:
            return None
        self.calls += 1
        self._count(reply)
        content = reply.choices[0].message.content
        return content.strip() if isinstance(content, str) and content.strip() else None

    async def aclose(self) -> None:
        """Close the HTTP client if this policy made it."""
        if self._own_client:
            await self.client.close()

    # -- what was heard, the tools ---------------------------------------------------

    def _hear(self, obs: Observation) -> None:
        for c in obs.chat:
            pair = (str(c.get("from", "")), str(c.get("text", "")))
            if pair not in self._speech:
                self._speech.append(pair)

    def _set_tools(self, tools: Sequence[Mapping[str, Any]]) -> None:
        key = prompting.dumps([t.get("name") for t in tools])
        if key == self._tools_key:
            return
        self._tools_key = key
        self._functions = prompting.tool_functions(tools, self.exclude_tools)
        self._schemas = {f["function"]["name"]: f["function"] for f in self._functions}

    # -- results of the last turn ----------------------------------------------------

    def _close_pending(self, outcomes: Sequence[Outcome]) -> None:
        turn, self._pending = self._pending, None
        if turn is None:
            return
        left = list(outcomes)
        for call in turn.calls:
            if call.action is None:
                content = f"error: {call.error}. The call was not sent."
            else:
                found = next((o for o in left if o.action == call.action), None)
                if found is None:
                    content = "sent; no result reported (see the next observation)"
                else:
                    left.remove(found)
                    text = prompting.scrub(found.text, self._speech).strip()
                    if len(text) > self.result_chars:
                        text = text[:self.result_chars] + " ..."
                    status = "ok" if found.ok else f"refused ({found.error or 'error'})"
                    content = f"{status}\n{text}" if text else status
            turn.results.append({"role": "tool", "tool_call_id": call.id, "content": content})
        self._history.append(turn)

    # -- memory ----------------------------------------------------------------------

    async def _remember(self, obs: Observation) -> list[Memory]:
        """Store notable outcomes, then fetch the memories for now (in a worker thread:
        stores are synchronous and may embed text or touch disk)."""
        store = self.memory
        if store is None or not obs.name:
            return []
        now = self._clock()
        room = str(obs.room.get("name") or obs.room.get("id") or "")
        notable = self._notable(obs, room)
        query = " ".join(filter(None, [
            room, f"fighting {obs.fighting}" if obs.fighting else "",
            *[prompting.scrub(t, self._speech) for t in obs.recent[-3:]]]))

        def work() -> list[Memory]:
            for text, importance in notable:
                store.add(obs.name, text, "outcome", importance, now)
            return store.retrieve(obs.name, query or "what to do next", now, k=self.memory_k)

        try:
            return await asyncio.to_thread(work)
        except Exception as exc:  # memory is a help, never a reason to stop playing
            self.log.warning("memory_failed", error=repr(exc)[:300])
            return []

    def _notable(self, obs: Observation, room: str) -> list[tuple[str, float]]:
        """Outcomes worth remembering, with a rough importance (the store may rescore)."""
        out: list[tuple[str, float]] = []
        v, before = obs.vitals, self._last_vitals
        if before and v:
            level, was = v.get("level"), before.get("level")
            if isinstance(level, int) and isinstance(was, int) and level > was:
                out.append((f"Reached level {level} in {room}.", 0.9))
            xp, xp_was = v.get("xp"), before.get("xp")
            if isinstance(xp, int) and isinstance(xp_was, int) and xp < xp_was:
                out.append((f"Lost {xp_was - xp} xp in {room} (died or fled).", 0.8))
        if v:
            self._last_vitals = dict(v)
        room_id = str(obs.room.get("id") or "")
        if room_id and room_id not in self._seen_rooms:
            self._seen_rooms.add(room_id)
            if len(self._seen_rooms) > 1:
                zone = obs.room.get("zone")
                out.append((f"Found {room}" + (f" in zone {zone}" if zone else "") + ".", 0.3))
        for o in obs.outcomes:
            if not o.ok:
                line = " ".join([o.action.tool, *(str(a) for a in o.action.args.values())])
                out.append((f"`{line}` was refused in {room}: {o.error}.", 0.2))
        return out

    # -- the prompt ------------------------------------------------------------------

    def _final_message(self, obs: Observation, memories: Sequence[Memory]) -> dict[str, Any]:
        self._obs_note = prompting.note(obs, self._turn)
        self._obs_room = str(obs.room.get("name") or obs.room.get("id") or "")
        self._name = obs.name
        # What must fit besides this message: system, tools, who we are, the longest summary.
        fixed = self._fixed_tokens() + prompting.estimate_tokens(self._long_lived()) + 110
        message = {"role": "user",
                   "content": prompting.render_observation(obs, self._speech, memories)}
        if fixed + prompting.message_tokens(message) > self.budget_tokens:
            message["content"] = prompting.render_observation(
                obs, self._speech, memories[:2], compact=True)
        while (fixed + prompting.message_tokens(message) > self.budget_tokens
               and len(message["content"]) > 200):  # a tiny budget: keep the start
            message["content"] = message["content"][:len(message["content"]) * 9 // 10]
        return message

    def _long_lived(self) -> str:
        who = f"You play {self._name}." if self._name else "You play an adventurer."
        summary = self._summary.line()
        return f"{who}\n{summary}" if summary else who

    def _fixed_tokens(self) -> int:
        return (prompting.message_tokens({"role": "system", "content": prompting.SYSTEM_PROMPT})
                + (prompting.estimate_tokens(self._functions) if self._functions else 0))

    def _assemble(self, final: dict[str, Any]) -> list[dict[str, Any]]:
        head = self._long_lived()
        messages: list[dict[str, Any]] = [{"role": "system", "content": prompting.SYSTEM_PROMPT}]
        for i, turn in enumerate(self._history):
            messages += turn.messages(head if i == 0 else "")
        if self._history:
            messages.append(final)
        else:
            messages.append({"role": "user", "content": f"{head}\n\n{final['content']}"})
        return messages

    def _tokens(self, messages: Sequence[Mapping[str, Any]]) -> int:
        tools = prompting.estimate_tokens(self._functions) if self._functions else 0
        return tools + sum(prompting.message_tokens(m) for m in messages)

    def _fit(self, final: dict[str, Any]) -> list[dict[str, Any]]:
        """The messages for this call, under the budget: oldest turns dropped first.

        Once over, turns go until the prompt is under `low_water` of the budget, so
        the cut (which changes the cached prefix) happens seldom.
        """
        messages = self._assemble(final)
        if self._tokens(messages) <= self.budget_tokens:
            return messages
        target = self.budget_tokens * self.low_water
        dropped = 0
        while self._history and self._tokens(messages) > target:
            self._summary.add(self._history.popleft())
            dropped += 1
            messages = self._assemble(final)
        self.log.info("context_trimmed", dropped=dropped, kept=len(self._history),
                      tokens=self._tokens(messages), budget=self.budget_tokens)
        return messages

    # -- metering --------------------------------------------------------------------

    def _completion_cap(self) -> int | None:
        if self.max_completion_tokens is not None:
            return self.max_completion_tokens
        return METERED_COMPLETION_CAP if self.meter is not None else None

    def worst_case(self, messages: Sequence[Mapping[str, Any]]) -> int:
        """The most tokens a call with `messages` can use: the prompt estimate with a
        margin, plus the completion cap."""
        return (int(self._tokens(messages) * PROMPT_MARGIN) + 16
                + (self._completion_cap() or METERED_COMPLETION_CAP))

    async def _reserve(self, messages: Sequence[Mapping[str, Any]]) -> str | None:
        """Reserve the call's worst case (after settling what a lost connection left).

        Raises:
            BudgetExceeded: the server refused; the caller decides what happens next.
        """
        meter = self.meter
        if meter is None:
            return None
        while self._unsettled:
            rid, p, c, k = self._unsettled[0]
            try:
                await meter.usage_settle(rid, self.model, p, c, k)
            except (ConnectionLost, TimeoutError):
                break  # the connection is down: the reservation below fails the same way
            except ClientError as exc:  # expired meanwhile: the usage is lost, say so
                self.log.warning("usage_settle_failed", reservation=rid, code=exc.code)
            self._unsettled.pop(0)
        worst = self.worst_case(messages)
        reservation = await meter.usage_reserve(self.model, worst)
        self.log.debug("usage_reserved", reservation=reservation, max_tokens=worst)
        return reservation

    async def _settle(self, reservation: str, reply: Any | None,
                      messages: Sequence[Mapping[str, Any]]) -> None:
        """Settle with the reply's real usage (none for a failed call; the estimate when
        a provider sends no usage)."""
        assert self.meter is not None
        prompt = completion = cached = 0
        if reply is not None:
            u = getattr(reply, "usage", None)
            if u is None:
                prompt = self._tokens(messages)
            else:
                details = getattr(u, "prompt_tokens_details", None)
                prompt, completion = u.prompt_tokens or 0, u.completion_tokens or 0
                cached = min(prompt, getattr(details, "cached_tokens", None) or 0)
        try:
            await self.meter.usage_settle(reservation, self.model, prompt, completion, cached)
        except (ConnectionLost, TimeoutError):
            self._unsettled.append((reservation, prompt, completion, cached))
            self.log.warning("usage_settle_deferred", reservation=reservation)
        except ClientError as exc:
            self.log.warning("usage_settle_failed", reservation=reservation, code=exc.code,
                             message=exc.message)

    # -- the call --------------------------------------------------------------------

    async def _complete(self, messages: list[dict[str, Any]]) -> Any | None:
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages}
        if self._functions:
            kwargs["tools"] = self._functions
            kwargs["parallel_tool_calls"] = True
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        cap = self._completion_cap()
        if cap is not None:
            kwargs["max_completion_tokens"] = cap
        for attempt in range(1, self.retry.tries + 1):
            try:
                reply = await self.client.chat.completions.create(**kwargs)
            except openai.OpenAIError as exc:
                status = getattr(exc, "status_code", None)
                if not _retryable(exc):
                    self.failures += 1
                    self.log.error("llm_call_failed", status=status, error=str(exc)[:300],
                                   retryable=False)
                    return None
                if attempt == self.retry.tries:
                    self.failures += 1
                    self.log.error("llm_gave_up", status=status, tries=attempt,
                                   error=str(exc)[:300])
                    return None
                response = getattr(exc, "response", None)
                asked = retry_after(response.headers if response is not None else None)
                delay = (min(asked, self.retry.max_retry_after) if asked is not None
                         else self.retry.backoff(attempt, self._rng))
                self.log.warning("llm_retry", status=status, attempt=attempt,
                                 delay=round(delay, 3), retry_after=asked,
                                 error=type(exc).__name__)
                await self._sleep(delay)
                continue
            except Exception as exc:  # anything else (a broken reply...): skip this turn
                self.failures += 1
                self.log.error("llm_call_failed", error=repr(exc)[:300], retryable=False)
                return None
            self.calls += 1
            self._count(reply)
            return reply
        return None

    def _count(self, reply: Any) -> None:
        u = getattr(reply, "usage", None)
        if u is None:
            return
        details = getattr(u, "prompt_tokens_details", None)
        cached = getattr(details, "cached_tokens", None) or 0
        self._usage = replace(
            self._usage,
            prompt_tokens=self._usage.prompt_tokens + (u.prompt_tokens or 0),
            completion_tokens=self._usage.completion_tokens + (u.completion_tokens or 0),
            cached_tokens=self._usage.cached_tokens + cached)
        self.log.debug("llm_usage", prompt=u.prompt_tokens, completion=u.completion_tokens,
                       cached=cached)

    def _take(self, reply: Any, obs: Observation) -> list[Action]:
        """The model's reply as actions; the turn waits for their outcomes."""
        if not reply.choices:
            self.failures += 1
            self.log.warning("llm_no_choice")
            return []
        msg = reply.choices[0].message
        content = (msg.content or "").strip()
        why = content.splitlines()[0][:80] if content else ""
        calls: list[_Call] = []
        wire_calls: list[dict[str, Any]] = []
        for i, tc in enumerate(msg.tool_calls or []):
            fn = getattr(tc, "function", None)
            if fn is None:  # a custom (non-function) tool call: not ours
                continue
            call_id = tc.id or f"call_{self._turn}_{i}"
            args, error = check_call(fn.name, fn.arguments, self._schemas)
            if args is None:
                self.log.warning("tool_call_dropped", tool=fn.name,
                                 arguments=(fn.arguments or "")[:200], reason=error)
                calls.append(_Call(call_id, None, error))
            else:
                calls.append(_Call(call_id, Action(fn.name, args, why)))
            wire_calls.append({"id": call_id, "type": "function",
                               "function": {"name": fn.name, "arguments": fn.arguments or ""}})
        assistant: dict[str, Any] = {"role": "assistant",
                                     "content": content or (None if wire_calls else "(waits)")}
        if wire_calls:
            assistant["tool_calls"] = wire_calls
        turn = _Turn(self._turn, self._obs_note, self._obs_room, assistant, calls)
        if calls:
            self._pending = turn
        else:
            self._history.append(turn)
        actions = [c.action for c in calls if c.action is not None]
        self.log.info("llm_decided", turn=self._turn,
                      actions=[f"{a.tool} {prompting.dumps(a.args)}" for a in actions],
                      dropped=sum(c.action is None for c in calls), said=why or None)
        return actions
