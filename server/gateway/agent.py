"""The agent a session speaks for: plain data that both roles hold.

The world host makes an `AgentIdentity` when an API key logs in (server/host/identity.py)
and a gateway keeps a copy on its `Session` (for the scopes of `tools`, the owner in
`auth`); `to_data` and `from_data` carry it across the bus.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True, slots=True)
class AgentIdentity:
    """The agent a session speaks for (`Session.agent`; None for people).

    Attributes:
        name: The lower-cased account (and character) name.
        display_name: The name as spelled at creation.
        owner: The owner's lower-cased account name.
        key_id: The public id of the key it logged in with.
        scopes: The command categories the key grants (empty or {"*"}: all of them).
        config: The agent's `agent_config` (rate, burst, on_limit, policy, model, cls...).
    """

    name: str
    display_name: str
    owner: str
    key_id: str
    scopes: frozenset[str]
    config: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def categories(self) -> frozenset[str] | None:
        """The command categories its key grants (None: every one, the scope `*` or
        none given)."""
        if not self.scopes or "*" in self.scopes:
            return None
        return self.scopes

    def to_data(self) -> dict[str, Any]:
        """Plain data (for the bus)."""
        return {"name": self.name, "display_name": self.display_name, "owner": self.owner,
                "key_id": self.key_id, "scopes": sorted(self.scopes),
                "config": dict(self.config)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> AgentIdentity:
        """The identity `to_data` gave."""
        return cls(str(data["name"]), str(data["display_name"]), str(data["owner"]),
                   str(data["key_id"]), frozenset(str(s) for s in data.get("scopes", ())),
                   MappingProxyType(dict(data.get("config") or {})))
