"""Player text made safe to show to others: the one definition the world cleans with.

Whatever a player or builder writes (speech, names, descriptions, aliases, reasons)
is cleaned once, where it enters the world (the command registry's argument
reading, the builders' JSON values), so every event carries clean text and every
codec (ANSI and plain text, JSON, msgpack, GMCP) sends clean text. server/gateway/render.py
cleans again with the same function as a second guard.

Taken out: C0 controls (but tab and newline: a tab becomes a space, a newline stays
only in multi-line text), DEL, C1 controls, bidirectional marks, embeddings,
overrides and isolates, the Unicode line and paragraph separators, lone surrogates
(no codec can send them) and the invisible tag characters U+E0000-U+E007F (which
LLMs read as ASCII, so they could hide instructions for agents).

The same class is defined in server/wire.py (`wire.clean_text`, for agents/, which may
import nothing from world/); tests/world/test_text.py checks that the two agree on every
code point.
"""

from __future__ import annotations

import re
from typing import Any

UNSAFE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
    r"\u2066-\u2069\ud800-\udfff\U000e0000-\U000e007f]")
"""The characters `clean` takes out (a tab and a newline are handled apart)."""


def clean(text: str, newlines: bool = True) -> str:
    """`text` without control, bidi-override and other invisible characters (see the module
    docstring); a tab becomes a space, and so does a newline unless `newlines`."""
    if text.isprintable():  # the usual case: nothing to take out
        return text
    text = UNSAFE.sub("", text).replace("\t", " ")
    return text if newlines else text.replace("\n", " ")


def clean_value(value: Any) -> Any:
    """`value` (decoded JSON: strings, lists, maps, numbers) with every string in it, map keys
    included, cleaned."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    if isinstance(value, dict):
        return {clean(k) if isinstance(k, str) else k: clean_value(v)
                for k, v in value.items()}
    return value
