"""Packaging hook (everything else is in pyproject.toml): the starter world goes into the
wheel as `server/starter/`, copied from content/, which stays at the top of the repository.

A checkout (or an editable install) reads content/ itself; an installed wheel has no
content/ beside it, so `server.config.default_content_dir()` falls back to the copy.
MANIFEST.in puts content/ into the sdist, from which `python -m build` makes the wheel.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithContent(build_py):
    """build_py, then content/ copied into the built `server` package as `starter/`."""

    def run(self) -> None:
        super().run()
        source = Path(__file__).resolve().parent / "content"
        if not self.editable_mode and source.is_dir():
            target = Path(self.build_lib) / "server" / "starter"
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns(
                "__pycache__", "*.pyc", "*.tmp", ".*"))


setup(cmdclass={"build_py": BuildWithContent})
