"""A local OpenAI-compatible HTTP server for tests: scripted replies, every request recorded.

It runs `http.server` on 127.0.0.1 on a free port in a thread, so both the async
and the sync openai clients can talk to it over real HTTP, from async or plain tests:

    with FakeOpenAI() as fake:
        fake.script(chat_reply(tool_call("go", {"direction": "north"})))
        client = openai.AsyncOpenAI(base_url=fake.base_url, api_key="test")
        ...
        fake.chat_bodies[0]["tools"]        # what the client sent

Endpoints:
- `POST /v1/chat/completions`: the next scripted `Reply` (FIFO); when none is left,
  `responder(body)` if given (a scripted "model" that reads the request), else a
  plain text reply without tool calls. A 200 reply without `usage` gets one:
  `prompt_tokens` is len/4 of the prompt (tools then messages, compact JSON) and
  `cached_tokens` is len/4 of the longest prefix it shares with an earlier prompt,
  the way providers' prefix caches count.
- `POST /v1/embeddings`: deterministic vectors (`embedding_dim`, default 64): a
  hashed bag of lower-case words, L2-normalised, so texts sharing words are close.
  Honours `encoding_format` "float" or "base64" (the openai client asks for base64).
- `GET /v1/models`: one model, `fake-model`.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import math
import re
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

_ids = itertools.count(1)


@dataclass
class Reply:
    """One scripted HTTP answer. `delay` seconds pass before it is sent (for timeouts)."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Recorded:
    """A request the server got."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def tool_call(name: str, args: dict[str, Any] | str, id: str | None = None) -> dict[str, Any]:
    """A tool call as a model sends it (`args` as a dict, or a raw string to send as is)."""
    return {"id": id or f"call_{next(_ids)}", "type": "function",
            "function": {"name": name,
                         "arguments": args if isinstance(args, str) else json.dumps(args)}}


def chat_reply(*calls: dict[str, Any], content: str | None = None,
               usage: dict[str, Any] | None = None) -> Reply:
    """A 200 chat completion whose message carries `calls` (and/or `content`)."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = list(calls)
    body: dict[str, Any] = {
        "id": f"chatcmpl-{next(_ids)}", "object": "chat.completion", "created": 0,
        "model": "fake-model",
        "choices": [{"index": 0, "message": message,
                     "finish_reason": "tool_calls" if calls else "stop"}]}
    if usage is not None:
        body["usage"] = usage
    return Reply(body=body)


def error_reply(status: int, message: str = "scripted failure", *,
                retry_after: str | None = None, delay: float = 0.0) -> Reply:
    """An OpenAI-style error body with `status` (and a Retry-After header if given)."""
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return Reply(status=status, headers=headers, delay=delay,
                 body={"error": {"message": message, "type": "test", "code": str(status)}})


def prompt_text(body: dict[str, Any]) -> str:
    """The prompt as the fake counts it: tools, then messages, compact JSON."""
    return json.dumps([body.get("tools") or [], body.get("messages") or []],
                      ensure_ascii=False, separators=(",", ":"))


def embed(text: str, dim: int = 64) -> list[float]:
    """The fake's deterministic embedding of `text`."""
    vec = [0.0] * dim
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        h = hashlib.sha256(word.encode()).digest()
        vec[int.from_bytes(h[:4], "little") % dim] += 1.0
    norm = math.sqrt(sum(x * x for x in vec))
    if norm == 0:
        vec[0], norm = 1.0, 1.0
    return [x / norm for x in vec]


class FakeOpenAI:
    """The server; use as a context manager (or `start()` / `stop()`)."""

    def __init__(self, responder: Callable[[dict[str, Any]], Reply] | None = None,
                 embedding_dim: int = 64) -> None:
        self.responder = responder
        self.embedding_dim = embedding_dim
        self.requests: list[Recorded] = []
        self._queue: list[Reply] = []
        self._prompts: list[str] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- set-up --

    def script(self, *replies: Reply) -> None:
        """Queue replies for the next chat requests, in order."""
        with self._lock:
            self._queue.extend(replies)

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "start the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def chat_bodies(self) -> list[dict[str, Any]]:
        """The bodies of the chat completion requests received, in order."""
        with self._lock:
            return [r.body for r in self.requests if r.path.endswith("/chat/completions")]

    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send(Reply(body={"object": "list", "data": [
                        {"id": "fake-model", "object": "model", "created": 0,
                         "owned_by": "test"}]}))
                else:
                    self._send(error_reply(404, "no such path"))

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    self._send(error_reply(400, "body is not JSON"))
                    return
                with fake._lock:
                    fake.requests.append(Recorded("POST", self.path,
                                                  {k.lower(): v for k, v in self.headers.items()},
                                                  body))
                if self.path.endswith("/chat/completions"):
                    self._send(fake._chat(body))
                elif self.path.endswith("/embeddings"):
                    self._send(fake._embeddings(body))
                else:
                    self._send(error_reply(404, "no such path"))

            def _send(self, reply: Reply) -> None:
                if reply.delay:
                    time.sleep(reply.delay)
                data = json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- answers --

    def _chat(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            reply = self._queue.pop(0) if self._queue else None
        if reply is None:
            reply = (self.responder(body) if self.responder
                     else chat_reply(content="I wait and watch."))
        prompt = prompt_text(body)
        with self._lock:
            shared = max((_common_prefix(prompt, p) for p in self._prompts), default=0)
            self._prompts.append(prompt)
        choices = reply.body.get("choices")
        if reply.status == 200 and "usage" not in reply.body and choices:
            completion = math.ceil(len(json.dumps(choices[0].get("message"))) / 4)
            reply = Reply(status=200, headers=reply.headers, delay=reply.delay, body={
                **reply.body, "usage": {
                    "prompt_tokens": math.ceil(len(prompt) / 4),
                    "completion_tokens": completion,
                    "total_tokens": math.ceil(len(prompt) / 4) + completion,
                    "prompt_tokens_details": {"cached_tokens": shared // 4}}})
        return reply

    def _embeddings(self, body: dict[str, Any]) -> Reply:
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        as_b64 = body.get("encoding_format") == "base64"
        data = []
        for i, text in enumerate(texts):
            vec = embed(str(text), self.embedding_dim)
            value: Any = (base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode()
                          if as_b64 else vec)
            data.append({"object": "embedding", "index": i, "embedding": value})
        tokens = sum(math.ceil(len(str(t)) / 4) for t in texts)
        return Reply(body={"object": "list", "data": data, "model": body.get("model", "fake"),
                           "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


def _common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix (binary search over C-speed slice compares)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo
