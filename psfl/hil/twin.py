"""Pluto twin: an ADALM-Pluto served over libiio's network protocol on loopback.

The twin is a small pure-Python ``iiod`` look-alike. ``adi.Pluto(twin.uri)`` connects to it
through the real pyadi-iio → pylibiio → libiio 0.24 network backend, so every attribute
access and every buffer transfer crosses the same code path as with a Pluto on USB/Ethernet.

Protocol (the text protocol of iiod 0.2x, as spoken by libiio 0.24's network backend;
one command per ``\\r\\n``-terminated line, integer answers as ``"<n>\\n"``, errors as
``"-<errno>\\n"``):

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

libiio opens one TCP connection for the context (attributes) and one more per buffer
(``OPEN``/``READBUF``/``WRITEBUF``/``CLOSE``), so the twin serves each connection on its own
thread. libiio 0.24 accepts a port in the URI (``ip:127.0.0.1:40123``), so the twin binds an
ephemeral port by default and parallel twins never clash; with ``port=30431`` (iiod's
port) the URI is the plain ``ip:<address>``.

Signal path of ``rx()`` (all in normalized full-scale units, 1.0 = converter full scale):

1. TX: the last cyclic buffer pushed to ``cf-ad9361-dds-core-lpc`` (int16 I/Q; the DAC
   keeps the 12 MSBs → ``(x >> 4) / 2048``), repeated forever; non-cyclic pushes are
   one-shot bursts. The stream starts at a random offset into the buffer when it is
   loaded; every ``READBUF`` continues where the previous one stopped (one global sample
   clock, advanced only by reads), so a receiver must synchronize as with hardware.
2. LO mismatch: ``tx_lo − rx_lo`` becomes a frequency offset; beyond ±fs/2 the signal
   falls outside the band and only noise remains.
3. ``channel(x) -> y``: the user's propagation callable (default: identity), applied to
   each block of ``rx_buffer_size`` samples, complex128 in and out, same length.
4. AWGN at ``snr_db`` relative to the mean power of the loaded TX waveform (``None``: no
   noise).
5. RF gain: ``tx_hardwaregain + rx_hardwaregain + loopback_gain_db`` in manual mode; in the
   AGC modes the twin picks the RX gain (0…73 dB, 1 dB steps) that puts the block RMS at
   ``agc_target_dbfs`` and reports it as ``rx_hardwaregain``. The ``loopback`` debug
   attribute set to 1 (digital loopback) bypasses 2–5.
6. ADC: 12-bit quantization with saturation to [−2048, 2047], sent as ``le:S12/16``.

Fault injection: ``drop_after_reads=N`` serves N ``READBUF`` commands, then answers the
next one with a truncated payload and closes every connection (the next ``rx()`` raises
``OSError`` within milliseconds); ``refuse_after_drop=True`` also stops listening, like a
radio that went away. :meth:`PlutoTwin.drop_connections` does the same on demand.
``stall_after_reads=N`` instead keeps the connection open and stops answering (a wedged
radio): libiio gives up after its socket timeout (5 s by default, ``ctx.set_timeout(ms)``
before the buffer is created to shorten it) and raises ``OSError(EPIPE)``; destroying the
stalled buffer costs one more timeout, because libiio waits for the CLOSE answer.

The module needs only numpy; it does not import psfl.phy/semantic/federation.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

import numpy as np

from psfl.hil.pluto_model import Channel, Device, build_pluto_devices, context_xml
from psfl.hil.pluto_state import AttrError, PlutoState

__all__ = ["IIOD_PORT", "PlutoTwin", "main"]

log = logging.getLogger("psfl.hil.twin")

IIOD_PORT = 30431
ADC_FULL_SCALE = 2048  # 12-bit signed: codes -2048 … 2047
_POLL_S = 0.1  # how often blocked server threads look at the stop flag
_SEND_TIMEOUT_S = 10.0
_MAX_LINE = 1 << 16
_MAX_ATTR = 1 << 20  # gain tables and FIR files are a few kB
_VERSION = "0.24.psfltwn"

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

ChannelFn = Callable[[np.ndarray], np.ndarray]


class _Closed(Exception):
    """The peer went away or the twin is stopping: end the session quietly."""


@dataclass
class _OpenBuffer:
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


@dataclass
class _Burst:
    start: int  # global RX sample index of the first sample
    samples: np.ndarray  # complex128, normalized


class PlutoTwin:
    """A Pluto served over libiio's network protocol on 127.0.0.x.

    Parameters
    ----------
    address:
        Loopback address to listen on (any of 127.0.0.0/8; ``::1`` works too).
    port:
        TCP port; ``0`` (default) picks a free one, ``30431`` is iiod's port.
    snr_db:
        AWGN level relative to the loaded TX waveform's mean power; ``None``: no noise.
    channel:
        Propagation callable ``channel(x: complex128[n]) -> complex[n]`` applied per
        ``READBUF`` block before noise, gain and quantization. ``None``: identity.
        May be replaced at run time (``twin.channel = f``).
    loopback_gain_db:
        Path gain between TX and RX ports on top of TX attenuation and RX gain; the
        default −30 dB puts a 2^14-scaled signal at about −6 dBFS with TX −10 dB and
        RX 40 dB (manual).
    agc_target_dbfs:
        Block RMS the emulated AGC (slow/fast_attack, hybrid) aims for.
    random_offset:
        Start a newly loaded cyclic buffer at a random sample (``True``) or at 0.
    seed:
        Seed of the twin's generator (offsets, noise); ``None`` for fresh entropy.
    ad9364:
        Accept LO 70 MHz–6 GHz instead of the stock Pluto range 325 MHz–3.8 GHz.
    drop_after_reads:
        Fault injection: after this many ``READBUF`` commands the next one is truncated
        and all connections are closed (one shot). ``None``: never.
    refuse_after_drop:
        With a drop, also stop accepting connections (radio gone).
    stall_after_reads:
        Fault injection: after this many ``READBUF`` commands the next one is never
        answered; that connection stays silent for ``stall_s`` seconds (or until the twin
        stops) and is then closed (one shot). ``None``: never.
    stall_s:
        How long a stalled connection stays silent.
    allow_remote:
        Permit a non-loopback ``address`` (off by default: tests stay on 127.0.0.x).

    Examples
    --------
    >>> with PlutoTwin(snr_db=25, seed=1) as twin:   # doctest: +SKIP
    ...     sdr = adi.Pluto(twin.uri)
    ...     sdr.tx_cyclic_buffer = True
    ...     sdr.tx(iq * 2**14)
    ...     y = sdr.rx()
    """

    def __init__(
        self,
        address: str = "127.0.0.1",
        port: int = 0,
        *,
        snr_db: float | None = 30.0,
        channel: ChannelFn | None = None,
        loopback_gain_db: float = -30.0,
        agc_target_dbfs: float = -12.0,
        random_offset: bool = True,
        seed: int | None = None,
        ad9364: bool = False,
        drop_after_reads: int | None = None,
        refuse_after_drop: bool = False,
        stall_after_reads: int | None = None,
        stall_s: float = 30.0,
        allow_remote: bool = False,
    ) -> None:
        ip = ipaddress.ip_address(address)
        if not ip.is_loopback and not allow_remote:
            raise ValueError(f"twin address {address} is not a loopback address (127.0.0.x)")
        if not 0 <= port <= 0xFFFF:
            raise ValueError(f"port {port} outside 0…65535")
        self.address = address
        self._req_port = port
        self._port: int | None = None
        self.snr_db = snr_db
        self.channel = channel
        self.loopback_gain_db = float(loopback_gain_db)
        self.agc_target_dbfs = float(agc_target_dbfs)
        self.random_offset = random_offset
        self.drop_after_reads = drop_after_reads
        self.refuse_after_drop = refuse_after_drop
        self.stall_after_reads = stall_after_reads
        self.stall_s = float(stall_s)
        self.state = PlutoState(ad9364=ad9364)
        self.devices = build_pluto_devices()
        self._by_key: dict[str, Device] = {}
        for d in self.devices:
            self._by_key[d.id] = d
            self._by_key[d.name] = d
        self._rng = np.random.default_rng(seed)
        self._lock = threading.RLock()  # signal-path state below
        self._rx_pos = 0
        self._tx_cyclic: np.ndarray | None = None
        self._tx_start = 0
        self._tx_owner: object | None = None
        self._bursts: list[_Burst] = []
        self._ref_power = 0.01
        self._sessions: set[_Session] = set()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._accept_thread: threading.Thread | None = None
        self.stats = {
            "connections": 0,
            "commands": 0,
            "readbuf": 0,
            "writebuf": 0,
            "samples_out": 0,
            "drops": 0,
            "stalls": 0,
        }

    # -- lifecycle ------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The bound TCP port (valid after :meth:`start`)."""
        if self._port is None:
            raise RuntimeError("twin not started")
        return self._port

    @property
    def uri(self) -> str:
        """libiio URI of the twin, e.g. ``ip:127.0.0.1:40123`` (port omitted if 30431)."""
        host = self.address if ":" not in self.address else f"[{self.address}]"
        if self.port == IIOD_PORT:
            return f"ip:{host}"
        return f"ip:{host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the accept loop is alive."""
        return self._accept_thread is not None and self._accept_thread.is_alive()

    def start(self) -> PlutoTwin:
        """Bind, listen and start the accept thread; returns ``self``.

        Raises
        ------
        OSError
            If the address/port cannot be bound (e.g. port in use).
        """
        if self.running:
            return self
        self._stop.clear()
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        srv = socket.socket(family, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            srv.bind((self.address, self._req_port))
        except OSError:
            srv.close()
            raise
        srv.listen(16)
        srv.settimeout(_POLL_S)
        self._listener = srv
        self._port = srv.getsockname()[1]
        t = threading.Thread(
            target=self._accept_loop, name=f"pluto-twin-accept-{self._port}", daemon=True
        )
        self._accept_thread = t
        t.start()
        log.info("Pluto twin listening on %s", self.uri)
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Close every connection and the listener, and join all server threads.

        Parameters
        ----------
        timeout:
            Seconds to wait for each thread (they poll the stop flag every 0.1 s).
        """
        self._stop.set()
        self._close_listener()
        for s in list(self._sessions):
            s.kill()
        threads = [self._accept_thread, *self._threads]
        for t in threads:
            if t is not None and t is not threading.current_thread():
                t.join(timeout)
        self._threads = [t for t in self._threads if t.is_alive()]
        self._accept_thread = None

    def __enter__(self) -> PlutoTwin:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def drop_connections(self, *, refuse: bool = False, _last: _Session | None = None) -> None:
        """Fault injection: close every client connection now.

        Parameters
        ----------
        refuse:
            Also stop listening, so reconnects are refused (the radio vanished).
        """
        self.stats["drops"] += 1
        if refuse:
            self._close_listener()
        # The session that triggered the drop goes last, so that by the time its client
        # sees EOF every other connection (e.g. the context one) is already shut.
        for s in sorted(self._sessions, key=lambda s: s is _last):
            s.kill()

    def _close_listener(self) -> None:
        srv, self._listener = self._listener, None
        if srv is not None:
            # shutdown() stops a listening socket at once on Linux; close() alone is
            # deferred while the accept thread still polls it, and a connect in that
            # window would be reset instead of refused.
            for op in (lambda: srv.shutdown(socket.SHUT_RDWR), srv.close):
                try:
                    op()
                except OSError:
                    pass

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            srv = self._listener
            if srv is None:
                break
            try:
                conn, peer = srv.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.settimeout(_POLL_S)
            sess = _Session(self, conn, peer)
            self.stats["connections"] += 1
            self._sessions.add(sess)
            t = threading.Thread(target=sess.run, name=f"pluto-twin-conn-{peer[1]}", daemon=True)
            self._threads = [x for x in self._threads if x.is_alive()] + [t]
            t.start()

    # -- signal path ----------------------------------------------------------------
    @property
    def tx_waveform(self) -> np.ndarray | None:
        """The cyclic TX waveform being transmitted, normalized (complex128), or ``None``."""
        with self._lock:
            return None if self._tx_cyclic is None else self._tx_cyclic.copy()

    @property
    def rx_position(self) -> int:
        """Global RX sample clock: samples delivered by ``READBUF`` so far."""
        return self._rx_pos

    def tx_offset(self, rx_index: int | None = None) -> int | None:
        """Index into the cyclic TX buffer that lands on RX sample ``rx_index``.

        Parameters
        ----------
        rx_index:
            Global RX sample index (default: the next sample to be read).

        Returns
        -------
        int or None
            ``(rx_index − start) mod len(tx)``; ``None`` when nothing is transmitted.
        """
        with self._lock:
            if self._tx_cyclic is None:
                return None
            n = self._rx_pos if rx_index is None else rx_index
            return int((n - self._tx_start) % len(self._tx_cyclic))

    def _load_tx(self, iq: np.ndarray, cyclic: bool, owner: object) -> None:
        """Install a pushed TX buffer (normalized complex128)."""
        with self._lock:
            p = float(np.mean(np.abs(iq) ** 2)) if iq.size else 0.0
            if p > 0:
                self._ref_power = p
            if cyclic:
                self._tx_cyclic = iq
                off = int(self._rng.integers(0, len(iq))) if self.random_offset and len(iq) else 0
                self._tx_start = self._rx_pos - off
                self._tx_owner = owner
            else:
                self._bursts.append(_Burst(self._rx_pos, iq))

    def _stop_tx(self, owner: object) -> None:
        """The TX buffer of ``owner`` was closed: the DMA stops, the DAC goes quiet."""
        with self._lock:
            if self._tx_owner is owner:
                self._tx_cyclic = None
                self._tx_owner = None

    def _generate(self, n: int) -> np.ndarray:
        """Next ``n`` RX samples as ADC codes, shape ``(n, 2)`` int16 (I, Q)."""
        with self._lock:
            p0 = self._rx_pos
            self._rx_pos += n
            x = np.zeros(n, dtype=np.complex128)
            if self._tx_cyclic is not None:
                L = len(self._tx_cyclic)
                idx = (p0 - self._tx_start + np.arange(n)) % L
                x += self._tx_cyclic[idx]
            keep = []
            for b in self._bursts:
                lo, hi = max(p0, b.start), min(p0 + n, b.start + len(b.samples))
                if lo < hi:
                    x[lo - p0 : hi - p0] += b.samples[lo - b.start : hi - b.start]
                if b.start + len(b.samples) > p0 + n:
                    keep.append(b)
            self._bursts = keep
            ref_power = self._ref_power
            snr_db = self.snr_db
            # numpy Generators are not thread-safe; draw under the lock
            w = None if snr_db is None else self._rng.standard_normal((2, n))
        st = self.state
        if st.loopback_mode == 1:
            y = x  # digital loopback inside the FPGA: no RF, no noise
        else:
            fs = st.sample_rate
            df = st.tx_lo - st.rx_lo
            if abs(df) >= fs / 2:
                x = np.zeros_like(x)
            elif df != 0:
                x = x * np.exp(2j * np.pi * df / fs * (p0 + np.arange(n)))
            y = np.asarray(self.channel(x) if self.channel is not None else x, dtype=np.complex128)
            if y.shape != (n,):
                raise ValueError(f"channel returned shape {y.shape}, expected ({n},)")
            if snr_db is not None and w is not None:
                sigma = np.sqrt(ref_power / 10 ** (snr_db / 10) / 2)
                y = y + sigma * (w[0] + 1j * w[1])
            path_db = st.tx_gain_db + self.loopback_gain_db
            if st.gain_control_mode == "manual":
                g_db = st.rx_gain_db
            else:
                rms = float(np.sqrt(np.mean(np.abs(y) ** 2))) * 10 ** (path_db / 20)
                g_db = self.agc_target_dbfs - 20 * np.log10(max(rms, 1e-12))
                g_db = float(np.clip(np.round(g_db), 0, 73))
                st.set_agc_gain(g_db)
            y = y * 10 ** ((path_db + g_db) / 20)
        codes = np.empty((n, 2), dtype=np.int16)
        codes[:, 0] = np.clip(
            np.round(y.real * ADC_FULL_SCALE), -ADC_FULL_SCALE, ADC_FULL_SCALE - 1
        )
        codes[:, 1] = np.clip(
            np.round(y.imag * ADC_FULL_SCALE), -ADC_FULL_SCALE, ADC_FULL_SCALE - 1
        )
        return codes

    def _find_device(self, key: str) -> Device | None:
        return self._by_key.get(key)


class _Session:
    """One client connection: a line-oriented command interpreter."""

    def __init__(self, twin: PlutoTwin, sock: socket.socket, peer: tuple) -> None:
        self.twin = twin
        self.sock = sock
        self.peer = peer
        self.buf = bytearray()
        self.open: dict[str, _OpenBuffer] = {}
        self._killed = False

    # -- I/O --------------------------------------------------------------------------
    def kill(self) -> None:
        """Tear the connection down from another thread (the owner sees EOF)."""
        self._killed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _fill(self) -> None:
        while True:
            if self.twin._stop.is_set() or self._killed:
                raise _Closed
            try:
                chunk = self.sock.recv(1 << 16)
            except TimeoutError:
                continue
            except OSError as e:
                raise _Closed from e
            if not chunk:
                raise _Closed
            self.buf += chunk
            return

    def readline(self) -> str:
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[: i + 1]
                return line.decode("ascii", "replace").rstrip("\r")
            if len(self.buf) > _MAX_LINE:
                raise _Closed
            self._fill()

    def readexact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode()
        try:
            self.sock.settimeout(_SEND_TIMEOUT_S)
            self.sock.sendall(data)
            self.sock.settimeout(_POLL_S)
        except OSError as e:
            raise _Closed from e

    def value(self, v: int) -> None:
        self.send(f"{v}\n")

    # -- main loop ----------------------------------------------------------------------
    def run(self) -> None:
        try:
            while True:
                line = self.readline()
                words = line.split()
                if not words:
                    continue
                self.twin.stats["commands"] += 1
                if not self.dispatch(words):
                    break
        except _Closed:
            pass
        except Exception:  # a twin bug must not hang the client: log and hang up
            log.exception("twin session %s crashed", self.peer)
        finally:
            for key in list(self.open):
                self._close_buffer(key)
            try:
                self.sock.close()
            except OSError:
                pass
            self.twin._sessions.discard(self)

    def dispatch(self, w: list[str]) -> bool:
        """Execute one command; ``False`` ends the session."""
        cmd = w[0].upper()
        log.debug("%s: %s", self.peer, " ".join(w))
        if cmd in ("EXIT", "QUIT"):
            return False
        if cmd == "HELP":
            self.send(_HELP)
        elif cmd == "VERSION":
            self.send(_VERSION + "\n")
        elif cmd == "PRINT":
            xml = self._xml().encode()
            self.send(f"{len(xml)}\n".encode() + xml + b"\n")
        elif cmd == "ZPRINT":
            self.value(-errno.EINVAL)
        elif cmd == "TIMEOUT" and len(w) == 2:
            self.value(0)
        elif cmd == "OPEN" and len(w) in (4, 5):
            self.value(self._open(w))
        elif cmd == "CLOSE" and len(w) == 2:
            self.value(self._close(w[1]))
        elif cmd == "READ" and len(w) >= 2:
            self._read_attr(w)
        elif cmd == "WRITE" and len(w) >= 3:
            self._write_attr(w)
        elif cmd == "READBUF" and len(w) == 3:
            self._readbuf(w[1], w[2])
        elif cmd == "WRITEBUF" and len(w) == 3:
            self._writebuf(w[1], w[2])
        elif cmd == "GETTRIG" and len(w) == 2:
            dev = self.twin._find_device(w[1])
            self.value(0 if dev is not None else -errno.ENODEV)
        elif cmd == "SETTRIG" and len(w) in (2, 3):
            dev = self.twin._find_device(w[1])
            self.value(-errno.ENODEV if dev is None else 0 if len(w) == 2 else -errno.ENOSYS)
        elif cmd == "SET" and len(w) == 4 and w[2].upper() == "BUFFERS_COUNT":
            dev = self.twin._find_device(w[1])
            try:
                nb = int(w[3])
            except ValueError:
                nb = 0
            self.value(-errno.ENODEV if dev is None else 0 if nb >= 1 else -errno.EINVAL)
        else:
            self.value(-errno.EINVAL)
        return True

    def _xml(self) -> str:
        attrs = {
            "hw_model": "Analog Devices PlutoSDR Rev.C (Z7010-AD9363A) [psfl twin]",
            "hw_model_variant": "1",
            "hw_serial": "104473000000000000000000000000psfltwin",
            "fw_version": "v0.38",
            "ad9361-phy,xo_correction": "40000000",
            "ad9361-phy,model": "ad9364" if self.twin.state.ad9364 else "ad9363a",
            "local,kernel": "5.15.0-psfl-twin",
            "psfl,twin": "1",
        }
        return context_xml(self.twin.devices, attrs)

    # -- attributes -----------------------------------------------------------------------
    def _resolve(
        self, w: list[str], writing: bool
    ) -> tuple[Device | None, str, str | None, int, int | None]:
        """Parse ``<dev> [DEBUG|BUFFER|INPUT|OUTPUT <chn>] [<attr>] [<len>]``.

        Returns (device, scope, attribute, errno-or-0, length).
        """
        dev = self.twin._find_device(w[1])
        rest = w[2:]
        length: int | None = None
        if writing:
            if not rest:
                return dev, "", None, errno.EINVAL, None
            try:
                length = int(rest[-1])
            except ValueError:
                return dev, "", None, errno.EINVAL, None
            rest = rest[:-1]
        if dev is None:
            return None, "", None, errno.ENODEV, length
        scope = "dev"
        if rest and rest[0].upper() in ("DEBUG", "BUFFER"):
            scope = rest[0].lower()
            rest = rest[1:]
        elif rest and rest[0].upper() in ("INPUT", "OUTPUT"):
            if len(rest) < 2:
                return dev, "", None, errno.EINVAL, length
            chn = dev.find_channel(rest[1], rest[0].upper() == "OUTPUT")
            if chn is None:
                return dev, "", None, errno.ENXIO, length
            scope = ("out:" if chn.output else "in:") + chn.id
            rest = rest[2:]
            if rest and rest[0] not in chn.attrs:
                return dev, scope, rest[0], errno.ENOENT, length
        attr = rest[0] if rest else None
        if attr is None:
            return dev, scope, None, errno.ENOSYS, length  # "all attributes" form: unsupported
        if len(rest) > 1:
            return dev, scope, attr, errno.EINVAL, length
        names = {"dev": dev.attrs, "debug": dev.debug_attrs, "buffer": dev.buffer_attrs}
        if scope in names and attr not in names[scope]:
            return dev, scope, attr, errno.ENOENT, length
        return dev, scope, attr, 0, length

    def _read_attr(self, w: list[str]) -> None:
        dev, scope, attr, err, _ = self._resolve(w, writing=False)
        if err or dev is None or attr is None:
            self.value(-(err or errno.EINVAL))
            return
        try:
            text = self.twin.state.read(dev.name, scope, attr)
        except AttrError as e:
            self.value(-e.code)
            return
        data = text.encode()
        self.send(f"{len(data)}\n".encode() + data + b"\n")

    def _write_attr(self, w: list[str]) -> None:
        dev, scope, attr, err, length = self._resolve(w, writing=True)
        if length is None or length < 0:
            self.value(-errno.EINVAL)
            return
        if length > _MAX_ATTR:
            # Skipping that much payload is not worth it; hang up so the client
            # fails loudly instead of desynchronizing.
            self.value(-errno.EFBIG)
            raise _Closed
        payload = self.readexact(length)
        if err or dev is None or attr is None:
            self.value(-(err or errno.EINVAL))
            return
        text = payload.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
        try:
            self.twin.state.write(dev.name, scope, attr, text)
        except AttrError as e:
            log.info("twin: write %s/%s/%s=%r refused: %s", dev.name, scope, attr, text, e)
            self.value(-e.code)
            return
        self.value(length)

    # -- buffers --------------------------------------------------------------------------
    def _open(self, w: list[str]) -> int:
        dev = self.twin._find_device(w[1])
        if dev is None:
            return -errno.ENODEV
        if not dev.has_buffer:
            return -errno.EINVAL
        cyclic = len(w) == 5
        if cyclic and w[4].upper() != "CYCLIC":
            return -errno.EINVAL
        try:
            samples = int(w[2])
        except ValueError:
            return -errno.EINVAL
        mask_s = w[3]
        if samples <= 0 or len(mask_s) != dev.mask_words * 8:
            return -errno.EINVAL
        try:
            words = [int(mask_s[i : i + 8], 16) for i in range(0, len(mask_s), 8)][::-1]
        except ValueError:
            return -errno.EINVAL
        if dev.id in self.open:
            return -errno.EBUSY
        enabled = [c for i, c in enumerate(dev.channels) if (words[i // 32] >> (i % 32)) & 1]
        scan = sorted((c for c in enabled if c.is_scan_element), key=lambda c: c.scan_index or 0)
        if not scan:
            return -errno.EINVAL
        if cyclic and not dev.is_tx:
            return -errno.EINVAL
        with self.twin._lock:
            if dev.is_tx and any(
                s is not self and dev.id in s.open for s in list(self.twin._sessions)
            ):
                return -errno.EBUSY  # one DMA stream per DAC
            self.open[dev.id] = _OpenBuffer(dev, samples, words, cyclic, scan)
        return 0

    def _close_buffer(self, dev_id: str) -> None:
        ob = self.open.pop(dev_id, None)
        if ob is not None and ob.device.is_tx:
            self.twin._stop_tx(self)

    def _close(self, key: str) -> int:
        dev = self.twin._find_device(key)
        if dev is None:
            return -errno.ENODEV
        if dev.id not in self.open:
            return -errno.EBADF
        self._close_buffer(dev.id)
        return 0

    def _readbuf(self, key: str, nbytes_s: str) -> None:
        twin = self.twin
        dev = twin._find_device(key)
        if dev is None:
            self.value(-errno.ENODEV)
            return
        ob = self.open.get(dev.id)
        if ob is None or dev.is_tx:
            self.value(-errno.EBADF)
            return
        try:
            nbytes = int(nbytes_s)
        except ValueError:
            self.value(-errno.EINVAL)
            return
        ss = ob.sample_size
        n = nbytes // ss
        if n <= 0:
            self.value(0)
            return
        codes = twin._generate(n)
        iq_of = {"voltage0": 0, "voltage1": 1}
        cols = [codes[:, iq_of.get(c.id, 0)] for c in ob.scan]
        payload = np.stack(cols, axis=1).astype("<i2").tobytes()
        head = f"{len(payload)}\n{ob.mask_hex()}\n".encode()
        drop_at = twin.drop_after_reads
        if drop_at is not None and twin.stats["readbuf"] >= drop_at:
            # Fault injection: die in the middle of a transfer, like a pulled cable.
            twin.drop_after_reads = None
            log.info("twin: dropping all connections after %d reads", drop_at)
            try:
                self.sock.sendall(head + payload[: len(payload) // 2])
            except OSError:
                pass
            twin.drop_connections(refuse=twin.refuse_after_drop, _last=self)
            raise _Closed
        stall_at = twin.stall_after_reads
        if stall_at is not None and twin.stats["readbuf"] >= stall_at:
            twin.stall_after_reads = None
            twin.stats["stalls"] += 1
            log.info("twin: stalling a buffer connection after %d reads", stall_at)
            deadline = time.monotonic() + twin.stall_s
            while not (twin._stop.is_set() or self._killed) and time.monotonic() < deadline:
                twin._stop.wait(_POLL_S)
            raise _Closed
        with twin._lock:
            twin.stats["readbuf"] += 1
            twin.stats["samples_out"] += n
        self.send(head + payload)
        if len(payload) < nbytes:
            self.value(0)  # short read: tell the client there is no more

    def _writebuf(self, key: str, nbytes_s: str) -> None:
        twin = self.twin
        dev = twin._find_device(key)
        if dev is None:
            self.value(-errno.ENODEV)
            return
        ob = self.open.get(dev.id)
        try:
            nbytes = int(nbytes_s)
        except ValueError:
            nbytes = -1
        if ob is None or not dev.is_tx:
            self.value(-errno.EBADF)
            return
        if nbytes < 0:
            self.value(-errno.EINVAL)
            return
        self.value(0)
        raw = self.readexact(nbytes)
        ss = ob.sample_size
        n = nbytes // ss
        data = np.frombuffer(raw[: n * ss], dtype="<i2").reshape(n, len(ob.scan))
        # The AD9361 DAC takes the 12 MSBs of each 16-bit word.
        dac = (data.astype(np.int32) >> 4).astype(np.float64) / ADC_FULL_SCALE
        i = q = np.zeros(n)
        for k, c in enumerate(ob.scan):
            if c.id == "voltage0":
                i = dac[:, k]
            elif c.id == "voltage1":
                q = dac[:, k]
        twin._load_tx(i + 1j * q, ob.cyclic, self)
        with twin._lock:
            twin.stats["writebuf"] += 1
        self.value(nbytes)


def main(argv: list[str] | None = None) -> int:
    """Run a twin in the foreground: ``python -m psfl.hil.twin --address 127.0.0.1``.

    Parameters
    ----------
    argv:
        Command-line arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status (0 on Ctrl-C / ``--duration`` elapsed, 2 on a bind error).
    """
    p = argparse.ArgumentParser(
        prog="python -m psfl.hil.twin", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--address", default="127.0.0.1", help="loopback address (127.0.0.x)")
    p.add_argument("--port", type=int, default=IIOD_PORT, help="TCP port (0: any free port)")
    p.add_argument("--snr-db", type=float, default=30.0, help="AWGN SNR in dB; 'inf' for none")
    p.add_argument("--loopback-gain-db", type=float, default=-30.0)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--ad9364", action="store_true", help="LO range 70 MHz–6 GHz")
    p.add_argument("--drop-after-reads", type=int, default=None, help="fault injection")
    p.add_argument("--duration", type=float, default=None, help="exit after this many seconds")
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if a.verbose else logging.INFO, format="%(message)s")
    twin = PlutoTwin(
        a.address,
        a.port,
        snr_db=None if a.snr_db == float("inf") else a.snr_db,
        loopback_gain_db=a.loopback_gain_db,
        seed=a.seed,
        ad9364=a.ad9364,
        drop_after_reads=a.drop_after_reads,
    )
    try:
        twin.start()
    except OSError as e:
        print(
            f"error: cannot listen on {a.address}:{a.port}: {e.strerror}; "
            f"pick another --port or --address 127.0.0.x",
            file=sys.stderr,
        )
        return 2
    # handler first: a supervisor may send SIGTERM as soon as it reads the URI
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print(
        f"Pluto twin serving on {twin.uri}  (adi.Pluto({twin.uri!r}); Ctrl-C to stop)", flush=True
    )
    try:
        deadline = None if a.duration is None else time.monotonic() + a.duration
        while not done.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                break
            done.wait(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        twin.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
