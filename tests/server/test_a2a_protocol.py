"""server/host/a2a_protocol.py, server/host/a2a.py's pure helpers and
server/gateway/httpbody.py: A2A's JSON-RPC requests read and refused with their codes,
routes, addresses, POST heads."""

from __future__ import annotations

import json

import pytest
from websockets.datastructures import Headers

from server.config import Settings
from server.gateway.httpbody import Body, HeadRefused, read_post
from server.host.a2a import bearer, configured_base, request_base, route
from server.host.a2a_protocol import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    TASK_NOT_FOUND,
    UNSUPPORTED_OPERATION,
    VERSION_NOT_SUPPORTED,
    RpcError,
    check_version,
    granted,
    message_text,
    parse_call,
    refuse_method,
    request_id,
)


def code_of(body: bytes) -> int:
    with pytest.raises(RpcError) as caught:
        parse_call(body)
    return caught.value.code


def test_requests_that_are_not_one_json_rpc_call_get_their_codes() -> None:
    assert code_of(b"{nope") == PARSE_ERROR
    assert code_of(b"\xff\xfe") == PARSE_ERROR
    assert code_of(b"[" * 100_000 + b"]" * 100_000) == PARSE_ERROR  # too deep for Python
    assert code_of(b'[{"jsonrpc": "2.0", "method": "SendMessage"}]') == INVALID_REQUEST
    assert code_of(b'{"jsonrpc": "1.0", "method": "SendMessage"}') == INVALID_REQUEST
    assert code_of(b'{"jsonrpc": "2.0", "id": 1}') == INVALID_REQUEST
    assert code_of(b'{"jsonrpc": "2.0", "id": true, "method": "x"}') == INVALID_REQUEST
    assert code_of(json.dumps({"jsonrpc": "2.0", "id": "x" * 200, "method": "m"}).encode()
                   ) == INVALID_REQUEST
    assert code_of(b'{"jsonrpc": "2.0", "method": "m", "params": [1]}') == INVALID_PARAMS
    call = parse_call(b'{"jsonrpc": "2.0", "id": 3, "method": "message/send"}')
    assert (call.id, call.method, call.params, call.legacy) == (3, "message/send", {}, True)
    assert request_id(b'{"id": "abc"}') == "abc" and request_id(b"{no") is None


def test_only_sending_a_message_is_served() -> None:
    def code(method: str) -> int:
        with pytest.raises(RpcError) as caught:
            refuse_method(parse_call(json.dumps({"jsonrpc": "2.0", "method": method}).encode()))
        return caught.value.code

    refuse_method(parse_call(b'{"jsonrpc": "2.0", "method": "SendMessage"}'))
    assert code("SendStreamingMessage") == UNSUPPORTED_OPERATION
    assert code("GetTask") == TASK_NOT_FOUND and code("tasks/get") == TASK_NOT_FOUND
    assert code("Dance") == METHOD_NOT_FOUND
    check_version(None)
    check_version("1.0")
    check_version("0.3.0")
    with pytest.raises(RpcError) as caught:
        check_version("2.0")
    assert caught.value.code == VERSION_NOT_SUPPORTED


def test_the_text_of_a_message() -> None:
    def text(message: object) -> tuple[str, str | None]:
        return message_text(parse_call(json.dumps(
            {"jsonrpc": "2.0", "method": "SendMessage", "params": {"message": message}}
        ).encode()))

    assert text({"parts": [{"text": "hi"}, {"data": {"a": 1}}, {"text": "there"}],
                 "contextId": "c1"}) == ("hi\nthere", "c1")
    assert text({"parts": [{"kind": "text", "text": "old"}]}) == ("old", None)
    for bad in ({"parts": []}, {"parts": [{"kind": "file", "text": "x"}]}, {}, "hi"):
        with pytest.raises(RpcError) as caught:
            text(bad)
        assert caught.value.code == INVALID_PARAMS


def test_routes_keys_and_addresses() -> None:
    assert route("/a2a/Scout") == ("Scout", "rpc") == route("/a2a/Scout/")
    assert route("/a2a/Scout/.well-known/agent-card.json") == ("Scout", "card")
    for path in ("/a2a/", "/a2a/Sc0ut", "/a2a/Scout/other", "/a2a/../x", "/other/Scout",
                 "/a2a/" + "a" * 40):
        assert route(path) is None, path
    assert bearer(Headers([("Authorization", "Bearer aq_k_s")])) == "aq_k_s"
    assert bearer(Headers([("Authorization", "bearer  aq_k_s ")])) == "aq_k_s"
    assert bearer(Headers([("Authorization", "Basic eDp5")])) is None
    assert bearer(Headers([("Authorization", "Bearer a"), ("Authorization", "Bearer b")])
                  ) is None
    assert bearer(Headers()) is None
    assert granted(["*"], ["b", "a"]) == ["a", "b"] and granted(["b", "z"], ["a", "b"]) == ["b"]
    s = Settings(host="0.0.0.0", port=4000)
    assert configured_base(s) == "http://localhost:4000"
    assert configured_base(s.with_overrides(host="::1")) == "http://[::1]:4000"
    public = s.with_overrides(public_url="https://mud.example.org/")
    assert configured_base(public) == "https://mud.example.org"
    assert request_base(s, Headers([("Host", "mud.example.org:8080")]), 4000
                        ) == "http://mud.example.org:8080"
    assert request_base(s, Headers([("Host", "evil/path")]), 4000) == "http://localhost:4000"
    assert request_base(public, Headers([("Host", "other")]), 4000) == "https://mud.example.org"


def test_post_heads_are_read_and_bounded() -> None:
    request, length = read_post(b"POST /a2a/Scout HTTP/1.1\r\nHost: x\r\n"
                                b"Content-Length: 12\r\n\r\n", 100)
    assert (request.path, request.headers["Host"], length) == ("/a2a/Scout", "x", 12)
    for head, status in ((b"POST /a HTTP/1.1\r\n\r\n", 411),
                         (b"POST /a HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413),
                         (b"POST /a HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 411),
                         (b"POST /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                          411),
                         (b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
                         (b"POST /a HTTP/2\r\n\r\n", 400),
                         (b"POST /a HTTP/1.1\r\nno colon\r\n\r\n", 400)):
        with pytest.raises(HeadRefused) as caught:
            read_post(head, 100)
        assert caught.value.status == status, head
    body = Body(5)
    assert not body.feed(b"ab") and body.feed(b"cdefg") and body.data() == b"abcde"
    assert Body(0).done
