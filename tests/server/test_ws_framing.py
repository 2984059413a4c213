"""Our hand-framed server messages are byte for byte what websockets would send."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode

from server.gateway.ws import frame_header


@pytest.mark.parametrize("length", [0, 1, 125, 126, 127, 65535, 65536, 70000])
@pytest.mark.parametrize("opcode", [Opcode.TEXT, Opcode.BINARY])
def test_frame_header_matches_websockets(length: int, opcode: Opcode) -> None:
    payload = b"x" * length
    expected = Frame(opcode, payload).serialize(mask=False, extensions=[])
    assert frame_header(opcode.value, length) + payload == expected
