"""The bus: the seam between a gateway and the world host (DESIGN.md, "Processes").

Only data crosses it (server/bus/messages.py: slotted dataclasses, versioned msgpack):
inputs in, outputs out, requests answered, and the world's journal. Each role gets the
protocol it needs (server/bus/base.py): `GatewayBus` or `HostBus`; `Bus` is both.
Two implementations: `InProcBus` (server/bus/inproc.py, one process, `aegent serve`,
nothing to install) and `NatsBus` (server/bus/nats.py, nats-py and JetStream; imported
from there, so that `aegent serve` never loads nats-py).
"""

from server.bus.base import (
    DEFAULT_CONCURRENCY,
    DEFAULT_LIMIT,
    DEFAULT_RETENTION,
    DEFAULT_TIMEOUT,
    Bus,
    BusClosed,
    BusError,
    BusTimeout,
    BusUnavailable,
    Gap,
    GatewayBus,
    HostBus,
    Journal,
    Serving,
    Subjects,
    Subscription,
)
from server.bus.inproc import InProcBus, InProcJournal
from server.bus.messages import (
    MAX_MESSAGE_BYTES,
    VERSION,
    AdminInput,
    Answer,
    BusMessageError,
    Call,
    Command,
    Delivery,
    Disconnect,
    Enter,
    Input,
    Leave,
    LinkLost,
    Message,
    Output,
    Reply,
    Request,
    SessionIn,
    SessionOut,
    Tick,
    decode,
    encode,
)

__all__ = [
    "DEFAULT_CONCURRENCY", "DEFAULT_LIMIT", "DEFAULT_RETENTION", "DEFAULT_TIMEOUT",
    "MAX_MESSAGE_BYTES", "VERSION",
    "AdminInput", "Answer", "Bus", "BusClosed", "BusError", "BusMessageError", "BusTimeout",
    "BusUnavailable", "Call", "Command", "Delivery", "Disconnect", "Enter", "Gap",
    "GatewayBus", "HostBus", "InProcBus", "InProcJournal", "Input", "Journal", "Leave",
    "LinkLost", "Message", "Output", "Reply", "Request", "Serving", "Subjects",
    "SessionIn", "SessionOut", "Subscription", "Tick", "decode", "encode",
]
