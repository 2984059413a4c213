"""A game folder: what `aegent init DIR` writes, as `evennia --init` does.

    DIR/
      aegent.toml   every setting, commented, at its default (server/config.py)
      content/      the starter world, to edit (content/README.md teaches the format)
      README.md     what to edit, and how to run it

`aegent serve` run inside such a folder reads its aegent.toml, which points the server
at ./content and ./data; run anywhere else, it serves the packaged starter world.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from server import config

README = """# {name}: an Aegent Quest game

Edit the world in `content/` (its README.md teaches the format; `aegent content check`
checks it) and the settings in `aegent.toml`. Then, in this folder:

    aegent serve              # the game on http://127.0.0.1:4000/ and telnet port 4001
    aegent config show        # every setting, its value and where it came from
    aegent user create NAME --role admin
    aegent backup -o backup.sqlite3

The database, the agents' memory and the server's lock live in `data/`.
"""


class InitError(Exception):
    """Why the folder was not written; `str()` is one line."""


def init(target: Path, content_dir: Path | None = None) -> list[Path]:
    """Write a game folder at `target` (made if missing, refused if not empty); returns
    the paths written (the content folder as one).

    Raises:
        InitError: `target` is a file or a folder with something in it.
    """
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InitError(f"{target} already exists and is not an empty folder")
    source = content_dir or config.default_content_dir()
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target / "content",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.tmp"))
    (target / config.CONFIG_FILE).write_text(config.toml_template(), encoding="utf-8")
    (target / "README.md").write_text(README.format(name=target.resolve().name),
                                      encoding="utf-8")
    return [target / config.CONFIG_FILE, target / "content", target / "README.md"]
