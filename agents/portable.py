"""Portable agent memory: the `aegent-agent` file (msgpack, version 1), and moving memories.

One file holds one agent: its identity (never a key or any other secret), its
configuration, a summary of its character with the whole saved snapshot, its
memories and reflections with their vectors and metadata, and the name and
dimension of the embedding model that made the vectors. docs/agents.md ("Portable
memory") documents every field.

- `AgentFile` (with `Identity`, `CharacterSummary`, `MemoryRecord`): the file as
  values. `dumps`/`write` and `loads`/`read` convert it to and from msgpack and
  validate: a file that is not msgpack, is cut short, is another format, has a
  version this code does not read, or holds a field of the wrong type raises
  `PortableError`, whose stable `code` and message name what is wrong and where.
- `dump_memories` reads an agent's memories out of a `QdrantMemory`;
  `load_memories` writes them into one: the vectors as they are when the target's
  embedder is the same model with the same dimension, else every text re-embedded
  by the target's embedder.
- `open_memory` opens the store the agent runtime uses (`QDRANT_URL`, else local
  mode under `<data dir>/qdrant`; `AEGENT_EMBEDDINGS_*`, else MiniLM).

Nothing here touches the database: server/host/agent_transfer.py reads and writes the
account side, and server/cli.py (`aegent agent export|import`) joins the two.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgpack
import numpy as np

if TYPE_CHECKING:
    from agents.memory import QdrantMemory

FORMAT = "aegent-agent"
VERSION = 1
"""The file version this code writes, and the newest it reads."""

MAX_FILE_BYTES = 1 << 30
"""A file larger than this is refused before it is read (1 GiB: ~500,000 memories)."""

Progress = Callable[[str, int, int], None]
"""Called as work goes on: (stage, done, total); stages are "export", "embed", "import"."""

# Keys of `config` that may hold a secret (dropped on export, whatever their value), and
# the shape of an aegent API key (a value like it is dropped too, under any key).
_SECRET_KEY = re.compile(r"(?:^|_)(?:api_?key|secret|password|passwd|token|credentials?)$",
                         re.IGNORECASE)
_API_KEY = re.compile(r"\baq_[A-Za-z0-9_-]{6,}_[A-Za-z0-9_-]{16,}")
# payload keys of a stored memory that are fields of their own in the file
_CORE = ("agent", "text", "kind", "importance", "created", "last_access")


class PortableError(ValueError):
    """A file that cannot be read (or a memory store that cannot take it).

    Attributes:
        code: stable: `not_msgpack`, `truncated`, `not_agent_file`,
            `unsupported_version`, `invalid`, `too_large`, `memories_exist`.
        message: what is wrong, naming the field (e.g. `memories[3].vector`).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{message} ({code})")
        self.code = code
        self.message = message


# ---- the file as values ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the agent is: never a key, a key's hash or a password."""

    name: str  # the lower-cased account name
    display_name: str
    owner: str  # the owner's lower-cased account name
    kind: str = "agent"
    created_at: str = ""  # ISO 8601, UTC


@dataclass(frozen=True, slots=True)
class CharacterSummary:
    """The character at export: a summary to read, and the whole snapshot to restore."""

    cls: str
    level: int
    xp: int
    room: str
    gold: int
    equipment: dict[str, str]  # slot -> item prototype id
    inventory: list[str]  # item prototype ids
    snapshot: dict[str, Any]  # the saved snapshot, as the server stores it


@dataclass(frozen=True, slots=True)
class MemoryRecord:
    """One memory or reflection with its vector (float32, little-endian) and metadata."""

    id: str
    kind: str
    text: str
    importance: float
    created: float  # game seconds
    last_access: float
    vector: bytes
    meta: dict[str, Any] = field(default_factory=dict)  # event, zone, room, evidence...

    def array(self) -> np.ndarray[Any, np.dtype[np.float32]]:
        """The vector as a float32 array."""
        return np.frombuffer(self.vector, dtype="<f4").astype(np.float32)


@dataclass(frozen=True, slots=True)
class AgentFile:
    """A whole `aegent-agent` file."""

    identity: Identity
    config: dict[str, Any]
    character: CharacterSummary | None
    embedding_model: str
    embedding_dim: int
    memories: list[MemoryRecord]
    exported_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())


def summarize_character(snapshot: Mapping[str, Any]) -> CharacterSummary:
    """The summary of a saved character snapshot (World.snapshot's dict)."""

    def num(key: str) -> int:
        value = snapshot.get(key)
        return value if type(value) is int else 0

    equipment = snapshot.get("equipment")
    inventory = snapshot.get("inventory")
    return CharacterSummary(
        cls=str(snapshot.get("cls") or ""),
        level=num("level"),
        xp=num("xp"),
        room=str(snapshot.get("room") or ""),
        gold=num("gold"),
        equipment={str(slot): str(item.get("proto", "")) for slot, item in equipment.items()
                   if isinstance(item, dict)} if isinstance(equipment, dict) else {},
        inventory=[str(item.get("proto", "")) for item in inventory
                   if isinstance(item, dict)] if isinstance(inventory, list) else [],
        snapshot=dict(snapshot),
    )


def clean_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """`config` without anything that may be a secret (keys named like one, key-shaped
    values), at any depth."""

    def clean(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): clean(v) for k, v in value.items()
                    if not _SECRET_KEY.search(str(k)) and not _secret_value(v)}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value if not _secret_value(v)]
        return value

    out: dict[str, Any] = clean(config)
    return out


def _secret_value(value: Any) -> bool:
    return isinstance(value, str) and bool(_API_KEY.search(value))


# ---- writing -----------------------------------------------------------------------------


def to_data(agent: AgentFile) -> dict[str, Any]:
    """The file's top-level map (what `dumps` packs)."""
    character: dict[str, Any] | None = None
    if agent.character is not None:
        c = agent.character
        character = {"class": c.cls, "level": c.level, "xp": c.xp, "room": c.room,
                     "gold": c.gold, "equipment": dict(c.equipment),
                     "inventory": list(c.inventory), "snapshot": dict(c.snapshot)}
    i = agent.identity
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": agent.exported_at,
        "identity": {"name": i.name, "display_name": i.display_name, "owner": i.owner,
                     "kind": i.kind, "created_at": i.created_at},
        "config": clean_config(agent.config),
        "character": character,
        "embedding": {"model": agent.embedding_model, "dim": agent.embedding_dim},
        "memory_count": len(agent.memories),
        "memories": [
            {"id": m.id, "kind": m.kind, "text": m.text, "importance": float(m.importance),
             "created": float(m.created), "last_access": float(m.last_access),
             "vector": bytes(m.vector), "meta": dict(m.meta)}
            for m in agent.memories
        ],
    }


def dumps(agent: AgentFile) -> bytes:
    """The file's bytes. Validates what it writes, so a file this writes always reads back.

    Raises:
        PortableError: `invalid`: a field of the wrong type (named).
    """
    data = to_data(agent)
    from_data(data)  # the same checks as on reading
    packed: bytes = msgpack.packb(data, use_bin_type=True)
    return packed


def write(path: Path, agent: AgentFile) -> int:
    """Write the file (mode 0600: memories may quote other players), atomically.

    Returns:
        its size in bytes.
    """
    blob = dumps(agent)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(blob)
    os.replace(tmp, path)
    return len(blob)


# ---- reading -----------------------------------------------------------------------------


def read(path: Path) -> AgentFile:
    """Read and validate a file.

    Raises:
        PortableError: see `loads`; `too_large` over `MAX_FILE_BYTES`.
        OSError: the file cannot be read.
    """
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise PortableError("too_large", f"{path} is {size} bytes, over {MAX_FILE_BYTES}")
    return loads(path.read_bytes())


def loads(blob: bytes) -> AgentFile:
    """Decode and validate a file's bytes.

    Raises:
        PortableError: `truncated` (cut short, or empty), `not_msgpack`,
            `not_agent_file`, `unsupported_version`, `invalid` (a field, named).
    """
    if not blob:
        raise PortableError("truncated", "the file is empty")
    try:
        data = msgpack.unpackb(blob, raw=False, strict_map_key=True)
    except msgpack.ExtraData:
        raise PortableError("not_msgpack", "not an aegent agent file: bytes follow the "
                                           "msgpack value (not msgpack, or two files in one)"
                            ) from None
    except (msgpack.FormatError, msgpack.StackError) as exc:
        raise PortableError("not_msgpack", f"not msgpack: {exc!r}") from None
    except ValueError as exc:
        if "incomplete" in str(exc) or "exceeds max_" in str(exc):  # lengths past the end
            raise PortableError("truncated", "the file is cut short (incomplete msgpack): "
                                             "copy it again") from None
        raise PortableError("not_msgpack", f"not msgpack: {exc}") from None
    return from_data(data)


def from_data(data: Any) -> AgentFile:
    """Validate a decoded top-level map and build the `AgentFile`.

    Raises:
        PortableError: as `loads`.
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        got = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise PortableError("not_agent_file",
                            f"not an aegent agent file (format {got!r}, expected {FORMAT!r})")
    version = data.get("version")
    if type(version) is not int:
        raise PortableError("unsupported_version", f"the file has no valid version ({version!r})")
    if version > VERSION:
        raise PortableError("unsupported_version",
                            f"the file is version {version}, newer than this aegent reads "
                            f"({VERSION}): upgrade aegent")
    if version < 1:
        raise PortableError("unsupported_version",
                            f"the file is version {version}, older than any this aegent reads "
                            f"(1..{VERSION})")
    top = _Fields(data, "")
    ident = top.mapping("identity")
    i = _Fields(ident, "identity.")
    identity = Identity(name=i.text("name", nonempty=True), display_name=i.text("display_name",
                        nonempty=True), owner=i.text("owner"), kind=i.text("kind"),
                        created_at=i.time("created_at", optional=True))
    if identity.kind != "agent":
        raise PortableError("invalid", f"identity.kind is {identity.kind!r}, not 'agent'")
    if identity.name != identity.display_name.lower():
        raise PortableError("invalid", f"identity.name {identity.name!r} is not the lower-case "
                                       f"form of display_name {identity.display_name!r}")
    config = top.mapping("config")
    character: CharacterSummary | None = None
    raw_char = data.get("character")
    if raw_char is not None:
        c = _Fields(top.mapping("character"), "character.")
        equipment = c.mapping("equipment")
        inventory = c.sequence("inventory")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in equipment.items()):
            raise PortableError("invalid", "character.equipment must map slots to item ids")
        if not all(isinstance(v, str) for v in inventory):
            raise PortableError("invalid", "character.inventory must be a list of item ids")
        snapshot = c.mapping("snapshot")
        s = _Fields(snapshot, "character.snapshot.")
        for key in ("name", "cls", "room"):
            s.text(key, nonempty=key == "name")
        for key in ("level", "xp"):
            s.integer(key)
        character = CharacterSummary(cls=c.text("class"), level=c.integer("level"),
                                     xp=c.integer("xp"), room=c.text("room"),
                                     gold=c.integer("gold"),
                                     equipment=dict(equipment), inventory=list(inventory),
                                     snapshot=dict(snapshot))
    emb = _Fields(top.mapping("embedding"), "embedding.")
    model, dim = emb.text("model", nonempty=True), emb.integer("dim")
    raw_memories = top.sequence("memories")
    low = 1 if raw_memories else 0  # 0: an endpoint's size, unknown, with nothing to embed
    if not low <= dim <= 65536:
        raise PortableError("invalid", f"embedding.dim {dim} is out of range {low}..65536")
    count = top.integer("memory_count")
    if count != len(raw_memories):
        raise PortableError("truncated" if len(raw_memories) < count else "invalid",
                            f"memory_count says {count} memories, the file holds "
                            f"{len(raw_memories)}")
    memories: list[MemoryRecord] = []
    seen: set[str] = set()
    for n, raw in enumerate(raw_memories):
        where = f"memories[{n}]."
        if not isinstance(raw, dict):
            raise PortableError("invalid", f"memories[{n}] is a {type(raw).__name__}, not a map")
        m = _Fields(raw, where)
        mid = m.text("id", nonempty=True)
        try:
            uuid.UUID(mid)
        except ValueError:
            raise PortableError("invalid", f"{where}id {mid!r} is not a UUID") from None
        if mid in seen:
            raise PortableError("invalid", f"{where}id {mid} appears twice")
        seen.add(mid)
        vector = m.binary("vector")
        if len(vector) != 4 * dim:
            raise PortableError("invalid", f"{where}vector has {len(vector)} bytes, expected "
                                           f"{4 * dim} ({dim} float32)")
        memories.append(MemoryRecord(
            id=mid, kind=m.text("kind", nonempty=True), text=m.text("text"),
            importance=m.number("importance"), created=m.number("created"),
            last_access=m.number("last_access"), vector=vector, meta=dict(m.mapping("meta"))))
    return AgentFile(identity=identity, config=dict(config), character=character,
                     embedding_model=model, embedding_dim=dim, memories=memories,
                     exported_at=top.time("exported_at"))


class _Fields:
    """Typed access to a decoded map; a missing or mistyped field raises `invalid`."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self.data = data
        self.where = where

    def _get(self, key: str, kinds: tuple[type, ...], label: str) -> Any:
        if key not in self.data:
            raise PortableError("invalid", f"{self.where}{key} is missing")
        value = self.data[key]
        if not isinstance(value, kinds) or isinstance(value, bool):
            raise PortableError("invalid", f"{self.where}{key} must be {label}, "
                                           f"not {type(value).__name__}")
        return value

    def text(self, key: str, *, nonempty: bool = False) -> str:
        value: str = self._get(key, (str,), "a string")
        if nonempty and not value:
            raise PortableError("invalid", f"{self.where}{key} is empty")
        return value

    def integer(self, key: str) -> int:
        value: int = self._get(key, (int,), "an integer")
        return value

    def number(self, key: str) -> float:
        value = self._get(key, (int, float), "a number")
        if value != value or value in (float("inf"), float("-inf")):
            raise PortableError("invalid", f"{self.where}{key} is not a finite number")
        return float(value)

    def binary(self, key: str) -> bytes:
        value: bytes = self._get(key, (bytes,), "binary (msgpack bin)")
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        value: dict[str, Any] = self._get(key, (dict,), "a map")
        return value

    def sequence(self, key: str) -> list[Any]:
        value: list[Any] = self._get(key, (list,), "a list")
        return value

    def time(self, key: str, *, optional: bool = False) -> str:
        value = self.text(key)
        if optional and not value:
            return value
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise PortableError("invalid", f"{self.where}{key} {value!r} is not an ISO 8601 "
                                           "time") from None
        return value


# ---- memory stores -----------------------------------------------------------------------


def open_memory(data_dir: Path, *, qdrant_url: str | None = None,
                qdrant_api_key: str | None = None, embeddings_url: str | None = None,
                embeddings_model: str | None = None,
                embeddings_api_key: str | None = None) -> QdrantMemory:
    """The memory store the agent runtime (agents/runner.py, `open_memory`) uses with the
    same settings: a Qdrant server (`QDRANT_URL`, `QDRANT_API_KEY`) or local mode in
    `<data dir>/qdrant`; the endpoint's embedder (`AEGENT_EMBEDDINGS_URL`,
    `AEGENT_EMBEDDINGS_MODEL`; key `OPENAI_API_KEY`) or local MiniLM."""
    from agents.embedding import default_embedder
    from agents.memory import QdrantMemory

    return QdrantMemory.open(data_dir, url=qdrant_url, api_key=qdrant_api_key,
                             embedder=default_embedder(embeddings_url, embeddings_model,
                                                       embeddings_api_key))


def dump_memories(store: QdrantMemory, agent: str, *, progress: Progress | None = None,
                  page: int = 256) -> tuple[str, int, list[MemoryRecord]]:
    """All of `agent`'s memories and reflections, oldest first, with their vectors.

    Returns:
        (the embedding model's name, the vector size, the records). With no memories
        the size is the embedder's (0 if it does not know it yet).

    Raises:
        PortableError: `invalid`: the stored vectors' size is not the embedder's, so the
            configured embedder did not make them (set the embeddings settings the
            runtime used).
    """
    embedder = store.embedder
    size = store.vector_size(agent)
    if size is not None and embedder.dim and size != embedder.dim:
        raise PortableError("invalid", f"{agent}'s memories hold vectors of size {size}, but "
                                       f"the configured embedder {embedder.name} makes "
                                       f"{embedder.dim}: use the embeddings settings the agent "
                                       "ran with (AEGENT_EMBEDDINGS_URL/_MODEL)")
    total = store.count(agent)
    records: list[MemoryRecord] = []
    for batch in store.points(agent, page=page):
        for p in batch:
            payload = p.payload
            records.append(MemoryRecord(
                id=p.id, kind=str(payload.get("kind", "observation")),
                text=str(payload.get("text", "")),
                importance=float(payload.get("importance", 0.0)),
                created=float(payload.get("created", 0.0)),
                last_access=float(payload.get("last_access", 0.0)),
                vector=p.vector.astype("<f4").tobytes(),
                meta={k: v for k, v in payload.items() if k not in _CORE}))
        if progress is not None:
            progress("export", len(records), max(total, len(records)))
    records.sort(key=lambda r: (r.created, r.id))
    return embedder.name, size or embedder.dim, records


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What `load_memories` did."""

    count: int
    reembedded: bool
    model: str  # the target's embedding model
    dim: int
    remapped: bool  # ids were taken in the target collection, so new ones were made


def load_memories(store: QdrantMemory, agent: str, records: Sequence[MemoryRecord],
                  model: str, dim: int, *, progress: Progress | None = None,
                  batch: int = 64) -> LoadReport:
    """Write `records` as `agent`'s memories into `store`.

    The vectors are kept as they are when the store's embedder is `model` with `dim`
    dimensions; otherwise every text is embedded again by the store's embedder. Ids
    are kept (reflections cite them as evidence) unless some are taken in the target
    collection (the shared layout, a copy of an agent under another name): then every
    id is replaced by a uuid5 of the agent and the old id, and the evidence with it.

    Raises:
        PortableError: `memories_exist`: `agent` has memories in this store already.
        ValueError: the embedder failed or made vectors of another size than the
            collection's.
    """
    existing = store.count(agent)
    if existing:
        raise PortableError("memories_exist",
                            f"the memory store holds {existing} memories of {agent} already: "
                            "import under another name (--rename) or use another store")
    embedder = store.embedder
    target_dim = embedder.dim
    if embedder.name == model and not target_dim:  # an endpoint tells its size when asked
        target_dim = int(embedder.embed(["dimension probe"]).shape[1])
    reembed = embedder.name != model or target_dim != dim
    ids = [r.id for r in records]
    taken: set[str] = set()
    for start in range(0, len(ids), 512):
        taken |= store.existing_ids(agent, ids[start : start + 512])
    mapping = {old: str(uuid.uuid5(uuid.NAMESPACE_URL, f"aegent-agent:{agent.lower()}:{old}"))
               for old in ids} if taken else {}
    from agents.memory import StoredPoint

    done = 0
    for start in range(0, len(records), batch):
        chunk = records[start : start + batch]
        if reembed:
            vectors = embedder.embed([r.text for r in chunk])
            if progress is not None:
                progress("embed", start + len(chunk), len(records))
        else:
            vectors = np.stack([r.array() for r in chunk])
        points = []
        for r, vector in zip(chunk, vectors, strict=True):
            meta = dict(r.meta)
            if mapping and isinstance(meta.get("evidence"), list):
                meta["evidence"] = [mapping.get(str(e), str(e)) for e in meta["evidence"]]
            payload = {**meta, "text": r.text, "kind": r.kind, "importance": r.importance,
                       "created": r.created, "last_access": r.last_access}
            points.append(StoredPoint(mapping.get(r.id, r.id), vector, payload))
        store.insert(agent, points)
        done += len(chunk)
        if progress is not None:
            progress("import", done, len(records))
    store.flush(agent)
    return LoadReport(count=done, reembedded=reembed, model=embedder.name,
                      dim=embedder.dim or target_dim, remapped=bool(taken))
