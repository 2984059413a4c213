"""Help pages as text for people: the Markdown of content/help/*.md made plain.

Help pages are written in a small Markdown (headings, paragraphs, lists, tables,
**bold**, *emphasis*, `code`, [links](url)); structured clients get it as it is
(`help_shown` with `format` "markdown"), and people read what `markdown_spans` makes of
it: headings as lines of their own (styled `heading`, so bold where colour is on),
paragraphs and list items as one line each (the client's window, or the `width`
setting, wraps them once), tables as aligned columns, emphasis without its marks,
code in quotes, links as "text (address)". Nothing is lost that a screen reader would
need, and no punctuation is left that it would read out ("asterisk", "grave").
"""

from __future__ import annotations

import re

Span = tuple[str, str]

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ITEM = re.compile(r"^(\s*)([-*+]|\d{1,3}[.)])\s+(.*)$")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_CODE = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")


def inline(text: str) -> str:
    """One line's inline Markdown made plain: `code` in quotes (double ones if the code
    holds a single quote), **bold** and *emphasis* without their marks, links as
    "text (address)"."""
    codes: list[str] = []

    def keep(m: re.Match[str]) -> str:
        code = m.group(1)
        codes.append(f'"{code}"' if "'" in code else f"'{code}'")
        return f"\x00{len(codes) - 1}\x00"

    text = _CODE.sub(keep, text)  # code is not looked into for emphasis
    text = _LINK.sub(lambda m: m.group(1) if m.group(1) == m.group(2)
                     else f"{m.group(1)} ({m.group(2)})", text)
    text = _STRONG.sub(r"\2", text)
    text = _EMPHASIS.sub(r"\2", text)
    return re.sub("\x00(\\d+)\x00", lambda m: codes[int(m.group(1))], text)


def _cells(row: str) -> list[str]:
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|"):
        row = row[:-1]
    return [inline(c.strip()) for c in row.split("|")]


def _table(rows: list[str]) -> list[str]:
    """Table rows (the `---` separator dropped) as lines of columns padded to line up."""
    table = [_cells(r) for r in rows if not _TABLE_SEPARATOR.match(r)]
    if not table:
        return []
    ncols = max(len(r) for r in table)
    table = [r + [""] * (ncols - len(r)) for r in table]
    widths = [max(len(r[i]) for r in table) for i in range(ncols)]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
            for r in table]


def markdown_spans(md: str) -> list[Span]:
    """A Markdown help page as styled spans of plain text (see the module's docstring)."""
    blocks: list[tuple[str, str]] = []  # (kind, text): heading, para, item, line
    para: list[str] = []
    table: list[str] = []
    in_fence = False

    def flush() -> None:
        if para:
            blocks.append(("para", inline(" ".join(para))))
            para.clear()
        if table:
            blocks.extend(("line", line) for line in _table(table))
            blocks.append(("gap", ""))
            table.clear()

    for raw in md.splitlines():
        line = raw.rstrip()
        if line.lstrip().startswith("```"):
            flush()
            in_fence = not in_fence
            continue
        if in_fence or (line.startswith("    ") and not para and not (
                blocks and blocks[-1][0] == "item")):
            flush()
            blocks.append(("line", line[4:] if line.startswith("    ") else line))
            continue
        if not line.strip():
            flush()
            if blocks and blocks[-1][0] != "gap":
                blocks.append(("gap", ""))
            continue
        if line.lstrip().startswith("|"):
            if para:
                flush()
            table.append(line)
            continue
        if table:
            flush()
        heading = _HEADING.match(line)
        if heading:
            flush()
            blocks.append(("heading", inline(heading.group(2))))
            continue
        if _RULE.match(line):
            flush()
            continue
        item = _ITEM.match(line)
        if item:
            flush()
            marker = item.group(2)
            bullet = "-" if marker in "-*+" else marker
            blocks.append(("item", f"{' ' * len(item.group(1))}  {bullet} "
                                   f"{inline(item.group(3))}"))
            continue
        if blocks and blocks[-1][0] == "item" and not para and raw[:1].isspace():
            kind, text = blocks[-1]  # an item's next line
            blocks[-1] = (kind, f"{text} {inline(line.strip())}")
            continue
        if blocks and blocks[-1][0] == "item" and not para and not raw[:1].isspace():
            flush()
        para.append(line.strip())
    flush()
    while blocks and blocks[-1][0] == "gap":
        blocks.pop()
    spans: list[Span] = []
    for n, (kind, text) in enumerate(blocks):
        if n:
            spans.append(("", "\n"))
        if kind == "heading":
            spans.append(("heading", text))
            if n + 1 < len(blocks) and blocks[n + 1][0] != "gap":
                spans.append(("", "\n"))
        elif kind != "gap":
            spans.append(("", text))
    return spans


def markdown_text(md: str) -> str:
    """`markdown_spans` as one plain string."""
    return "".join(text for _, text in markdown_spans(md))
