"""The iiod text protocol, as a table from command to handler.

The text protocol of iiod 0.2x, as spoken by libiio 0.24's network backend: one command
per ``\\r\\n``-terminated line, integer answers as ``"<n>\\n"``, errors as ``"-<errno>\\n"``.

==========================================  ===============================================
``VERSION``                                  ``"0.24.psfltwn\\n"``
``PRINT``                                    ``"<len>\\n<xml>\\n"`` (the context, with DTD)
``ZPRINT``                                   ``-EINVAL`` (no zstd; libiio falls back)
``TIMEOUT <ms>``                             ``0``
``OPEN <dev> <samples> <mask> [CYCLIC]``     ``0`` / ``-ENODEV`` / ``-EINVAL`` / ``-EBUSY``
``CLOSE <dev>``                              ``0`` / ``-EBADF``
``READ <dev> [DEBUG|BUFFER] <attr>``          ``"<len>\\n<value>\\n"`` or ``-errno``
``READ <dev> INPUT|OUTPUT <chn> <attr>``      idem
``WRITE <dev> [DEBUG|BUFFER] <attr> <len>``   then ``<len>`` raw bytes; answer ``<len>``/``-errno``
``WRITE <dev> INPUT|OUTPUT <chn> <attr> <len>``  idem
``READBUF <dev> <bytes>``                    ``"<bytes>\\n<mask hex>\\n"`` + samples
``WRITEBUF <dev> <bytes>``                   ``0``, then ``<bytes>`` raw bytes, then ``<bytes>``
``GETTRIG <dev>`` / ``SETTRIG <dev> [trig]``  ``0`` (no trigger) / ``0`` or ``-ENOSYS``
``SET <dev> BUFFERS_COUNT <n>``              ``0`` / ``-EINVAL``
``HELP``, ``EXIT``/``QUIT``, empty line      help text, close, nothing
==========================================  ===============================================

:class:`Session` interprets the commands of one connection through :data:`COMMANDS`; it
sees the twin only through :class:`Twin` (attribute state, devices, the TX/RX signal
path, fault injection) and the connection only through :class:`Wire`.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from psfl.hil.pluto_model import Channel, Device
from psfl.hil.pluto_state import AttrError, PlutoState
from psfl.hil.twin.dma import DEFAULT_BLOCKS
from psfl.hil.twin.frontend import dac_words

__all__ = ["COMMANDS", "VERSION", "Command", "ReadFault", "Session", "SessionClosed", "Twin"]

log = logging.getLogger("psfl.hil.twin")

VERSION = "0.24.psfltwn"
_MAX_ATTR = 1 << 20  # gain tables and FIR files are a few kB

_HELP = (
    "Available commands:\n\n"
    "\tHELP\n\tEXIT\n\tPRINT\n\tZPRINT\n\tVERSION\n\tTIMEOUT <timeout_ms>\n"
    "\tOPEN <device> <samples_count> <mask> [CYCLIC]\n\tCLOSE <device>\n"
    "\tREAD <device> DEBUG|BUFFER|[INPUT|OUTPUT <channel>] [<attribute>]\n"
    "\tWRITE <device> DEBUG|BUFFER|[INPUT|OUTPUT <channel>] [<attribute>] <bytes_count>\n"
    "\tREADBUF <device> <bytes_count>\n\tWRITEBUF <device> <bytes_count>\n"
    "\tGETTRIG <device>\n\tSETTRIG <device> [<trigger>]\n"
    "\tSET <device> BUFFERS_COUNT <count>\n"
)


class SessionClosed(Exception):
    """The peer went away or the twin is stopping: end the session quietly."""


class ReadFault(SessionClosed):
    """A ``READBUF`` hit an injected fault; the server carries it out, then hangs up.

    Parameters
    ----------
    kind : "drop" | "stall"
        Drop every connection mid-transfer, or leave this one silent.
    partial : bytes
        What a drop still sends (half the answer, like a pulled cable).
    """

    def __init__(self, kind: str, partial: bytes = b"") -> None:
        super().__init__(kind)
        self.kind = kind
        self.partial = partial


class Twin(Protocol):
    """What the interpreter needs of the twin (:class:`psfl.hil.twin.PlutoTwin`)."""

    @property
    def state(self) -> PlutoState: ...

    def find_device(self, key: str) -> Device | None: ...

    def context_xml(self) -> str: ...

    def claim_dac(self, dev_id: str, owner: object) -> bool: ...

    def release_dac(self, dev_id: str, owner: object) -> None: ...

    def load_tx(self, iq: np.ndarray, cyclic: bool, owner: object) -> None: ...

    def receive(self, n: int) -> np.ndarray: ...

    def read_fault(self) -> str | None: ...

    def count(self, name: str, k: int = 1) -> None: ...

    def stream_open(self, dev: Device, samples: int, blocks: int, cyclic: bool) -> None: ...

    def stream_close(self, dev: Device) -> None: ...

    def stream_data(self, dev: Device, n: int) -> None: ...


class Wire(Protocol):
    """What the interpreter needs of the connection."""

    peer: object

    def send(self, data: bytes | str) -> None: ...

    def readexact(self, n: int) -> bytes: ...


@dataclass
class OpenBuffer:
    """A buffer opened by one connection (iiod keeps these per client)."""

    device: Device
    samples: int
    mask: list[int]  # 32-bit words, least significant word first
    cyclic: bool
    scan: list[Channel] = field(default_factory=list)  # enabled scan channels by index

    @property
    def sample_size(self) -> int:
        """Bytes per sample across the enabled channels (all ours are 16-bit, no padding)."""
        return sum(c.sample_bytes for c in self.scan)

    def mask_hex(self) -> str:
        """The mask as iiod prints it: most significant word first, 8 hex digits each."""
        return "".join(f"{w:08x}" for w in reversed(self.mask))


class Session:
    """The protocol state of one connection: its open buffers.

    Parameters
    ----------
    twin : Twin
        The radio behind the protocol.
    wire : Wire
        The connection's byte stream.

    Input
    -----
    :meth:`execute` — words : list[str], one command line split on whitespace.

    Output
    ------
    Answers written to ``wire``; :meth:`execute` returns ``False`` to end the session.
    """

    def __init__(self, twin: Twin, wire: Wire) -> None:
        self.twin = twin
        self.wire = wire
        self.open: dict[str, OpenBuffer] = {}
        self.blocks: dict[str, int] = {}  # SET BUFFERS_COUNT per device id

    def value(self, v: int) -> None:
        """Answer an integer (a count, ``0`` or ``-errno``)."""
        self.wire.send(f"{v}\n")

    def text(self, data: bytes) -> None:
        """Answer ``"<len>\\n<data>\\n"``."""
        self.wire.send(f"{len(data)}\n".encode() + data + b"\n")

    def execute(self, words: list[str]) -> bool:
        """Execute one command; ``False`` ends the session."""
        log.debug("%s: %s", self.wire.peer, " ".join(words))
        cmd = COMMANDS.get(words[0].upper())
        if cmd is None or not cmd.accepts(words):
            self.value(-errno.EINVAL)
            return True
        return cmd.handler(self, words) is not False

    def close_buffer(self, dev_id: str) -> None:
        """Close one of this session's buffers; a TX buffer's DAC goes quiet."""
        ob = self.open.pop(dev_id, None)
        if ob is not None:
            self.twin.stream_close(ob.device)
        if ob is not None and ob.device.is_tx:
            self.twin.release_dac(dev_id, self)

    def close(self) -> None:
        """Close every buffer this session holds (the connection ended)."""
        for key in list(self.open):
            self.close_buffer(key)


Handler = Callable[[Session, list[str]], bool | None]


@dataclass(frozen=True)
class Command:
    """One protocol command.

    Parameters
    ----------
    handler : Callable[[Session, list[str]], bool | None]
        Answers the command; returns ``False`` to end the session.
    min_words, max_words : int, int or None
        Accepted length of the command line, command word included (``None``: no limit);
        other lengths are answered ``-EINVAL``.
    """

    handler: Handler
    min_words: int = 1
    max_words: int | None = None

    def accepts(self, words: list[str]) -> bool:
        """Whether the line has a length this command takes."""
        n = len(words)
        return n >= self.min_words and (self.max_words is None or n <= self.max_words)


# -- simple commands ----------------------------------------------------------------------
def _exit(s: Session, w: list[str]) -> bool:
    return False


def _help(s: Session, w: list[str]) -> None:
    s.wire.send(_HELP)


def _version(s: Session, w: list[str]) -> None:
    s.wire.send(VERSION + "\n")


def _print(s: Session, w: list[str]) -> None:
    s.text(s.twin.context_xml().encode())


def _zprint(s: Session, w: list[str]) -> None:
    s.value(-errno.EINVAL)  # no zstd: libiio falls back to PRINT


def _timeout(s: Session, w: list[str]) -> None:
    s.value(0)


def _gettrig(s: Session, w: list[str]) -> None:
    s.value(0 if s.twin.find_device(w[1]) is not None else -errno.ENODEV)


def _settrig(s: Session, w: list[str]) -> None:
    if s.twin.find_device(w[1]) is None:
        s.value(-errno.ENODEV)
    else:
        s.value(0 if len(w) == 2 else -errno.ENOSYS)  # clearing works; no triggers to set


def _set(s: Session, w: list[str]) -> None:
    if w[2].upper() != "BUFFERS_COUNT":
        s.value(-errno.EINVAL)
        return
    try:
        nb = int(w[3])
    except ValueError:
        nb = 0
    dev = s.twin.find_device(w[1])
    if dev is None:
        s.value(-errno.ENODEV)
    elif nb < 1:
        s.value(-errno.EINVAL)
    else:
        s.blocks[dev.id] = nb
        s.value(0)


# -- attributes ---------------------------------------------------------------------------
@dataclass
class _Target:
    """A parsed ``<dev> [DEBUG|BUFFER|INPUT|OUTPUT <chn>] [<attr>] [<len>]``."""

    dev: Device | None
    scope: str = ""
    attr: str | None = None
    err: int = 0  # positive errno, 0 when the attribute exists
    length: int | None = None


def _channel_scope(t: _Target, dev: Device, rest: list[str]) -> list[str]:
    """Resolve ``INPUT|OUTPUT <chn> [<attr>]`` into ``t.scope``; returns what follows."""
    if len(rest) < 2:
        t.err = errno.EINVAL
        return []
    chn = dev.find_channel(rest[1], rest[0].upper() == "OUTPUT")
    if chn is None:
        t.err = errno.ENXIO
        return []
    t.scope = ("out:" if chn.output else "in:") + chn.id
    rest = rest[2:]
    if rest and rest[0] not in chn.attrs:
        t.attr, t.err = rest[0], errno.ENOENT
    return rest


def _resolve(twin: Twin, w: list[str], writing: bool) -> _Target:
    """Parse the address of a ``READ``/``WRITE`` (``WRITE`` ends with the payload length)."""
    t = _Target(twin.find_device(w[1]))
    rest = w[2:]
    if writing:
        try:
            t.length = int(rest[-1])
        except (IndexError, ValueError):
            t.err = errno.EINVAL
            return t
        rest = rest[:-1]
    if t.dev is None:
        t.err = errno.ENODEV
        return t
    t.scope = "dev"
    if rest and rest[0].upper() in ("DEBUG", "BUFFER"):
        t.scope, rest = rest[0].lower(), rest[1:]
    elif rest and rest[0].upper() in ("INPUT", "OUTPUT"):
        rest = _channel_scope(t, t.dev, rest)
        if t.err:
            return t
    _check_attr(t, t.dev, rest)
    return t


def _check_attr(t: _Target, dev: Device, rest: list[str]) -> None:
    """Set ``t.attr`` from what follows the scope, and ``t.err`` if it is not there."""
    t.attr = rest[0] if rest else None
    if t.attr is None:
        t.err = errno.ENOSYS  # the "all attributes" form: unsupported
    elif len(rest) > 1:
        t.err = errno.EINVAL
    else:
        names = {"dev": dev.attrs, "debug": dev.debug_attrs, "buffer": dev.buffer_attrs}
        if t.scope in names and t.attr not in names[t.scope]:
            t.err = errno.ENOENT


def _read(s: Session, w: list[str]) -> None:
    t = _resolve(s.twin, w, writing=False)
    if t.err or t.dev is None or t.attr is None:
        s.value(-(t.err or errno.EINVAL))
        return
    try:
        text = s.twin.state.read(t.dev.name, t.scope, t.attr)
    except AttrError as e:
        s.value(-e.code)
        return
    s.text(text.encode())


def _write(s: Session, w: list[str]) -> None:
    t = _resolve(s.twin, w, writing=True)
    if t.length is None or t.length < 0:
        s.value(-errno.EINVAL)
        return
    if t.length > _MAX_ATTR:
        # Skipping that much payload is not worth it; hang up so the client
        # fails loudly instead of desynchronizing.
        s.value(-errno.EFBIG)
        raise SessionClosed
    payload = s.wire.readexact(t.length)
    if t.err or t.dev is None or t.attr is None:
        s.value(-(t.err or errno.EINVAL))
        return
    text = payload.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
    try:
        s.twin.state.write(t.dev.name, t.scope, t.attr, text)
    except AttrError as e:
        log.info("twin: write %s/%s/%s=%r refused: %s", t.dev.name, t.scope, t.attr, text, e)
        s.value(-e.code)
        return
    s.value(t.length)


# -- buffers ------------------------------------------------------------------------------
def _parse_open(dev: Device, w: list[str]) -> tuple[int, list[int], bool] | int:
    """``OPEN <dev> <samples> <mask> [CYCLIC]`` as (samples, mask words least significant
    first, cyclic), or a negative errno."""
    cyclic = len(w) == 5
    if cyclic and w[4].upper() != "CYCLIC":
        return -errno.EINVAL
    try:
        samples = int(w[2])
        mask_s = w[3]
        if samples <= 0 or len(mask_s) != dev.mask_words * 8:
            return -errno.EINVAL
        words = [int(mask_s[i : i + 8], 16) for i in range(0, len(mask_s), 8)][::-1]
    except ValueError:
        return -errno.EINVAL
    return samples, words, cyclic


def _scan_channels(dev: Device, words: list[int]) -> list[Channel]:
    """The enabled scan channels of a mask, in scan order."""
    enabled = [c for i, c in enumerate(dev.channels) if (words[i // 32] >> (i % 32)) & 1]
    return sorted((c for c in enabled if c.is_scan_element), key=lambda c: c.scan_index or 0)


def _open_code(s: Session, w: list[str]) -> int:
    dev = s.twin.find_device(w[1])
    if dev is None:
        return -errno.ENODEV
    if not dev.has_buffer:
        return -errno.EINVAL
    req = _parse_open(dev, w)
    if isinstance(req, int):
        return req
    samples, words, cyclic = req
    if dev.id in s.open:
        return -errno.EBUSY
    scan = _scan_channels(dev, words)
    if not scan or (cyclic and not dev.is_tx):
        return -errno.EINVAL
    if dev.is_tx and not s.twin.claim_dac(dev.id, s):
        return -errno.EBUSY  # one DMA stream per DAC
    s.open[dev.id] = OpenBuffer(dev, samples, words, cyclic, scan)
    s.twin.stream_open(dev, samples, s.blocks.get(dev.id, DEFAULT_BLOCKS), cyclic)
    return 0


def _open(s: Session, w: list[str]) -> None:
    s.value(_open_code(s, w))


def _close(s: Session, w: list[str]) -> None:
    dev = s.twin.find_device(w[1])
    if dev is None:
        s.value(-errno.ENODEV)
    elif dev.id not in s.open:
        s.value(-errno.EBADF)
    else:
        s.close_buffer(dev.id)
        s.value(0)


def _readbuf(s: Session, w: list[str]) -> None:
    dev = s.twin.find_device(w[1])
    if dev is None:
        s.value(-errno.ENODEV)
        return
    ob = s.open.get(dev.id)
    if ob is None or dev.is_tx:
        s.value(-errno.EBADF)
        return
    try:
        nbytes = int(w[2])
    except ValueError:
        s.value(-errno.EINVAL)
        return
    n = nbytes // ob.sample_size
    if n <= 0:
        s.value(0)
        return
    codes = s.twin.receive(n)
    iq_of = {"voltage0": 0, "voltage1": 1}
    cols = [codes[:, iq_of.get(c.id, 0)] for c in ob.scan]
    payload = np.stack(cols, axis=1).astype("<i2").tobytes()
    head = f"{len(payload)}\n{ob.mask_hex()}\n".encode()
    fault = s.twin.read_fault()
    if fault is not None:
        raise ReadFault(fault, head + payload[: len(payload) // 2])
    s.twin.count("readbuf")
    s.twin.count("samples_out", n)
    s.twin.stream_data(dev, n)
    s.wire.send(head + payload)
    if len(payload) < nbytes:
        s.value(0)  # short read: tell the client there is no more


def _writebuf(s: Session, w: list[str]) -> None:
    dev = s.twin.find_device(w[1])
    if dev is None:
        s.value(-errno.ENODEV)
        return
    ob = s.open.get(dev.id)
    try:
        nbytes = int(w[2])
    except ValueError:
        nbytes = -1
    if ob is None or not dev.is_tx:
        s.value(-errno.EBADF)
        return
    if nbytes < 0:
        s.value(-errno.EINVAL)
        return
    s.value(0)
    raw = s.wire.readexact(nbytes)
    ss = ob.sample_size
    n = nbytes // ss
    dac = dac_words(np.frombuffer(raw[: n * ss], dtype="<i2").reshape(n, len(ob.scan)))
    i = q = np.zeros(n)
    for k, c in enumerate(ob.scan):
        if c.id == "voltage0":
            i = dac[:, k]
        elif c.id == "voltage1":
            q = dac[:, k]
    s.twin.load_tx(i + 1j * q, ob.cyclic, s)
    s.twin.stream_data(dev, n)
    s.twin.count("writebuf")
    s.value(nbytes)


#: Command word (upper case) → handler and accepted line length.
COMMANDS: dict[str, Command] = {
    "EXIT": Command(_exit),
    "QUIT": Command(_exit),
    "HELP": Command(_help),
    "VERSION": Command(_version),
    "PRINT": Command(_print),
    "ZPRINT": Command(_zprint),
    "TIMEOUT": Command(_timeout, 2, 2),
    "OPEN": Command(_open, 4, 5),
    "CLOSE": Command(_close, 2, 2),
    "READ": Command(_read, 2),
    "WRITE": Command(_write, 3),
    "READBUF": Command(_readbuf, 3, 3),
    "WRITEBUF": Command(_writebuf, 3, 3),
    "GETTRIG": Command(_gettrig, 2, 2),
    "SETTRIG": Command(_settrig, 2, 3),
    "SET": Command(_set, 4, 4),
}
