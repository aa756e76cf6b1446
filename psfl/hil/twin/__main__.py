"""The twin's command line: ``python -m psfl.hil.twin`` serves a Pluto twin in the foreground."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time

from psfl.hil.twin.server import IIOD_PORT, PlutoTwin

__all__ = ["main"]

DESCRIPTION = "Pluto twin: an ADALM-Pluto served over libiio's network protocol on loopback."


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m psfl.hil.twin", description=DESCRIPTION)
    p.add_argument("--address", default="127.0.0.1", help="loopback address (127.0.0.x)")
    p.add_argument("--port", type=int, default=IIOD_PORT, help="TCP port (0: any free port)")
    p.add_argument("--snr-db", type=float, default=30.0,
                   help="SNR in dB of the loaded TX buffer's mean power at the receiver input "
                        "(not per resource element: see psfl.hil.snr); 'inf' for the "
                        "receiver's own noise floor only")
    p.add_argument("--loopback-gain-db", type=float, default=-30.0)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--ad9364", action="store_true", help="LO range 70 MHz–6 GHz (TX from 46.875 MHz)")
    p.add_argument("--drop-after-reads", type=int, default=None, help="fault injection")
    p.add_argument("--duration", type=float, default=None, help="exit after this many seconds")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def _serve(twin: PlutoTwin, duration: float | None) -> None:
    """Serve until SIGTERM, Ctrl-C or ``duration`` seconds; then stop the twin."""
    # handler first: a supervisor may send SIGTERM as soon as it reads the URI
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print(
        f"Pluto twin serving on {twin.uri}  (adi.Pluto({twin.uri!r}); Ctrl-C to stop)", flush=True
    )
    try:
        deadline = None if duration is None else time.monotonic() + duration
        while not done.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                break
            done.wait(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        twin.stop()


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
    a = _parser().parse_args(argv)
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
    _serve(twin, a.duration)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
