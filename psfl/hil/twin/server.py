"""The Pluto twin's socket server: a Pluto front end served over iiod's protocol on loopback.

:class:`PlutoTwin` listens on a loopback address and serves each TCP connection on its own
thread, because libiio opens one connection for the context (attributes) and one more per
buffer (``OPEN``/``READBUF``/``WRITEBUF``/``CLOSE``). Each connection's commands go to a
:class:`~psfl.hil.twin.protocol.Session`; the signal behind ``READBUF``/``WRITEBUF`` is the
twin's :class:`~psfl.hil.twin.frontend.PlutoFrontend`. libiio 0.24 accepts a port in the
URI (``ip:127.0.0.1:40123``), so the twin binds an ephemeral port by default and parallel
twins never clash; with ``port=30431`` (iiod's port) the URI is the plain
``ip:<address>``.

Fault injection: ``drop_after_reads=N`` serves N ``READBUF`` commands, then answers the
next one with a truncated payload and closes every connection (the next ``rx()`` raises
``OSError`` within milliseconds); ``refuse_after_drop=True`` also stops listening, like a
radio that went away. :meth:`PlutoTwin.drop_connections` does the same on demand.
``stall_after_reads=N`` instead keeps the connection open and stops answering (a wedged
radio): libiio gives up after its socket timeout (5 s by default, ``ctx.set_timeout(ms)``
before the buffer is created to shorten it) and raises ``OSError(EPIPE)``; destroying the
stalled buffer costs one more timeout, because libiio waits for the CLOSE answer.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from types import TracebackType

from psfl.hil.pluto_model import Device, build_pluto_devices, context_xml
from psfl.hil.pluto_state import PlutoState
from psfl.hil.twin.dma import DmaMonitor
from psfl.hil.twin.frontend import ChannelFn, PlutoFrontend
from psfl.hil.twin.protocol import ReadFault, Session, SessionClosed

__all__ = ["IIOD_PORT", "PlutoTwin"]

log = logging.getLogger("psfl.hil.twin")

IIOD_PORT = 30431
_POLL_S = 0.1  # how often blocked server threads look at the stop flag
_SEND_TIMEOUT_S = 10.0
_MAX_LINE = 1 << 16

# What PRINT reports about the board (a Pluto Rev.C with firmware v0.38).
_BOARD = {
    "hw_model": "Analog Devices PlutoSDR Rev.C (Z7010-AD9363A) [psfl twin]",
    "hw_model_variant": "1",
    "hw_serial": "104473000000000000000000000000psfltwin",
    "fw_version": "v0.38",
    "ad9361-phy,xo_correction": "40000000",
}


class PlutoTwin(PlutoFrontend):
    """A Pluto served over libiio's network protocol on 127.0.0.x.

    Parameters
    ----------
    address:
        Loopback address to listen on (any of 127.0.0.0/8; ``::1`` works too).
    port:
        TCP port; ``0`` (default) picks a free one, ``30431`` is iiod's port.
    snr_db:
        SNR of the loaded TX waveform at the receiver input (fixed at the TX gain it was
        pushed with); ``None``: only the receiver's own noise floor, from the RX gain and
        the AD9361's noise figure, which also bounds the noise from below.
    channel:
        Propagation callable ``channel(x: complex128[n]) -> complex[n]`` applied per
        ``READBUF`` block before noise, gain and quantization. ``None``: identity.
        May be replaced at run time (``twin.channel = f``).
    loopback_gain_db:
        Path gain between TX and RX ports on top of TX attenuation and RX gain; the
        default −30 dB puts a 2^14-scaled signal at about −6 dBFS with TX −10 dB and
        RX 40 dB (manual).
    agc_target_dbfs:
        Block RMS the emulated AGC (slow/fast_attack, hybrid) aims for; ``None`` (default):
        the middle of the chip's inner AGC window, ``adi,agc-inner-thresh-low``…``-high``
        (−12…−10 dBFS on a Pluto), where the AD9361's AGC stops moving the gain.
    random_offset:
        Start a newly loaded cyclic buffer at a random sample (``True``) or at 0.
    seed:
        Seed of the twin's generator (offsets, noise); ``None`` for fresh entropy.
    ad9364:
        Accept an RX LO of 70 MHz–6 GHz and a TX LO of 46.875 MHz–6 GHz instead of the
        stock Pluto range 325 MHz–3.8 GHz.
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

    Input
    -----
    libiio commands on the TCP connections (:mod:`psfl.hil.twin.protocol`).

    Output
    ------
    Their answers; RX samples from :class:`~psfl.hil.twin.frontend.PlutoFrontend`.

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
        agc_target_dbfs: float | None = None,
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
        super().__init__(
            PlutoState(ad9364=ad9364),
            snr_db=snr_db,
            channel=channel,
            loopback_gain_db=loopback_gain_db,
            agc_target_dbfs=agc_target_dbfs,
            random_offset=random_offset,
            seed=seed,
        )
        self.address = address
        self._req_port = port
        self._port: int | None = None
        self.drop_after_reads = drop_after_reads
        self.refuse_after_drop = refuse_after_drop
        self.stall_after_reads = stall_after_reads
        self.stall_s = float(stall_s)
        self.devices = build_pluto_devices()
        self._by_key: dict[str, Device] = {}
        for d in self.devices:
            self._by_key[d.id] = d
            self._by_key[d.name] = d
        self._server_lock = threading.RLock()  # stats, DAC owners, fault counters
        self.dma = DmaMonitor(self.state.registers)
        self.state.register_refresh = self.dma.refresh
        self._dac_owner: dict[str, object] = {}
        self._sessions: set[_Connection] = set()
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

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called (server threads wind down)."""
        return self._stop.is_set()

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

    def drop_connections(self, *, refuse: bool = False, _last: _Connection | None = None) -> None:
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
            sess = _Connection(self, conn, peer)
            self.stats["connections"] += 1
            self._sessions.add(sess)
            t = threading.Thread(target=sess.run, name=f"pluto-twin-conn-{peer[1]}", daemon=True)
            self._threads = [x for x in self._threads if x.is_alive()] + [t]
            t.start()

    # -- what the protocol sees (psfl.hil.twin.protocol.Twin) ------------------------
    def find_device(self, key: str) -> Device | None:
        """Device by id (``iio:device3``) or name (``cf-ad9361-lpc``)."""
        return self._by_key.get(key)

    def context_xml(self) -> str:
        """The context as ``PRINT`` sends it (board attributes included)."""
        attrs = {
            **_BOARD,
            "ad9361-phy,model": "ad9364" if self.state.ad9364 else "ad9363a",
            "local,kernel": "5.15.0-psfl-twin",
            "psfl,twin": "1",
        }
        return context_xml(self.devices, attrs)

    def claim_dac(self, dev_id: str, owner: object) -> bool:
        """Give ``owner`` the DMA stream of TX device ``dev_id``; ``False`` if another
        owner holds it (one stream per DAC)."""
        with self._server_lock:
            if self._dac_owner.get(dev_id, owner) is not owner:
                return False
            self._dac_owner[dev_id] = owner
        self.dma_open(owner)
        return True

    def release_dac(self, dev_id: str, owner: object) -> None:
        """``owner`` closed its TX buffer: the stream is free and the DAC goes quiet."""
        with self._server_lock:
            if self._dac_owner.get(dev_id) is owner:
                del self._dac_owner[dev_id]
        self.dma_close(owner)
        self.stop_tx(owner)

    def stream_open(self, dev: Device, samples: int, blocks: int, cyclic: bool) -> None:
        """A buffer opened: its DMA starts on the sample clock (overflow/underflow)."""
        self.dma.open(dev.name, samples, blocks, self.state.sample_rate, tx=dev.is_tx,
                      cyclic=cyclic)

    def stream_close(self, dev: Device) -> None:
        """A buffer closed: its DMA stops."""
        self.dma.close(dev.name)

    def stream_data(self, dev: Device, n: int) -> None:
        """``n`` samples crossed a buffer (read from RX, pushed to TX)."""
        self.dma.data(dev.name, n)

    def count(self, name: str, k: int = 1) -> None:
        """Add ``k`` to ``stats[name]``."""
        with self._server_lock:
            self.stats[name] += k

    def read_fault(self) -> str | None:
        """The injected fault due at this ``READBUF`` (``"drop"``, ``"stall"``; one shot
        each), or ``None``."""
        with self._server_lock:
            reads = self.stats["readbuf"]
            drop_at, stall_at = self.drop_after_reads, self.stall_after_reads
            if drop_at is not None and reads >= drop_at:
                self.drop_after_reads = None
                log.info("twin: dropping all connections after %d reads", drop_at)
                return "drop"
            if stall_at is not None and reads >= stall_at:
                self.stall_after_reads = None
                self.stats["stalls"] += 1
                log.info("twin: stalling a buffer connection after %d reads", stall_at)
                return "stall"
        return None


class _Connection:
    """One client connection: its byte stream and the session interpreting it."""

    def __init__(self, twin: PlutoTwin, sock: socket.socket, peer: tuple) -> None:
        self.twin = twin
        self.sock = sock
        self.peer = peer
        self.buf = bytearray()
        self.session = Session(twin, self)
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
            if self.twin.stopping or self._killed:
                raise SessionClosed
            try:
                chunk = self.sock.recv(1 << 16)
            except TimeoutError:
                continue
            except OSError as e:
                raise SessionClosed from e
            if not chunk:
                raise SessionClosed
            self.buf += chunk
            return

    def readline(self) -> str:
        """The next command line, without its ``\\r\\n``."""
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[: i + 1]
                return line.decode("ascii", "replace").rstrip("\r")
            if len(self.buf) > _MAX_LINE:
                raise SessionClosed
            self._fill()

    def readexact(self, n: int) -> bytes:
        """Exactly ``n`` bytes of payload."""
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def send(self, data: bytes | str) -> None:
        """Send all of ``data``; a peer that stops reading for 10 s ends the session."""
        if isinstance(data, str):
            data = data.encode()
        try:
            self.sock.settimeout(_SEND_TIMEOUT_S)
            self.sock.sendall(data)
            self.sock.settimeout(_POLL_S)
        except OSError as e:
            raise SessionClosed from e

    # -- faults ---------------------------------------------------------------------------
    def _carry_out(self, fault: ReadFault) -> None:
        twin = self.twin
        if fault.kind == "drop":
            # Die in the middle of a transfer, like a pulled cable.
            try:
                self.sock.sendall(fault.partial)
            except OSError:
                pass
            twin.drop_connections(refuse=twin.refuse_after_drop, _last=self)
            return
        deadline = time.monotonic() + twin.stall_s  # a wedged radio: silence, then hang up
        while not (twin.stopping or self._killed) and time.monotonic() < deadline:
            twin._stop.wait(_POLL_S)

    # -- main loop ----------------------------------------------------------------------
    def run(self) -> None:
        """Serve commands until the peer leaves, the twin stops or a fault hangs up."""
        try:
            while True:
                words = self.readline().split()
                if not words:
                    continue
                self.twin.count("commands")
                if not self.session.execute(words):
                    break
        except ReadFault as fault:
            self._carry_out(fault)
        except SessionClosed:
            pass
        except Exception:  # a twin bug must not hang the client: log and hang up
            log.exception("twin session %s crashed", self.peer)
        finally:
            self.session.close()
            try:
                self.sock.close()
            except OSError:
                pass
            self.twin._sessions.discard(self)
