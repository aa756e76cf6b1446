"""Where a command writes what it produced.

Every command writes into one run directory (``--out``, default ``runs/<command>-<timestamp>/``):
``config.toml`` (the configuration used), ``summary.json``, CSV series, PNG plots and ``log.txt``.
Files are written atomically (temporary file + rename), so a crash or a bad input later in the run
never leaves a half-written file or destroys one that was already complete. A run directory is
owned by one process at a time (:class:`RunLock`).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import importlib.util
import io
import json
import math
import os
import socket
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["LogProgress", "RunDir", "RunLock", "atomic_write_bytes", "csv_text",
           "default_out_dir", "duration", "jsonable", "mosaic", "progress"]


def default_out_dir(command: str, root: str | Path = "runs") -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(root) / f"{command}-{stamp}"


@contextlib.contextmanager
def atomic_path(path: Path, keep_suffix: bool = False) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed onto ``path`` when the block ends
    without an error, removed otherwise.

    The temporary name is unique to each call (not only to the process), so two writers of the
    same file (threads, or processes that share a directory) never rename each other's file
    away; the last rename wins and the file is always whole. Its name ends in ``.tmp``, or
    with ``keep_suffix`` in ``path``'s suffix, for writers that insist on one (Keras:
    ``.keras``).
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                suffix=path.suffix if keep_suffix else ".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (:func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def csv_text(rows: Sequence[Mapping[str, Any]], fieldnames: Sequence[str] | None = None) -> str:
    """``rows`` (dicts) as CSV; columns are the union of keys in first-seen order."""
    if fieldnames is None:
        seen: dict[str, None] = {}
        for row in rows:
            for key in row:
                seen.setdefault(key, None)
        fieldnames = list(seen)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(fieldnames))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: jsonable(v) for k, v in row.items()})
    return buf.getvalue()


def jsonable(obj: Any) -> Any:
    """Convert numpy/TF scalars and arrays; NaN/Inf become null so the JSON stays standard."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "tolist"):
        return jsonable(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


class RunLock:
    """Ownership of a run directory by one process.

    ``<dir>/.psfl.lock`` carries an exclusive ``flock`` for as long as the run lives and names
    its owner (command, PID, host, start time). The kernel drops a ``flock`` when its process
    ends, however it ends (SIGKILL included), so a name left in the file by an owner that no
    longer holds the lock is stale: the next run takes it over and says so (:attr:`stale`).
    The file is emptied, never deleted, on release: deleting it would let a process that opened
    the old file and one that creates a new one both believe they own the directory.

    Parameters
    ----------
    directory
        The run directory (must exist).
    command
        What owns it, for the message a second process gets (e.g. ``"psfl train"``).

    Raises
    ------
    ValueError
        When another live process owns the directory (one line naming it).
    """

    NAME = ".psfl.lock"

    def __init__(self, directory: str | Path, command: str):
        import fcntl

        self.path = Path(directory) / self.NAME
        self._fh = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the run
        try:
            fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = self._owner() or "another process"
            self._fh.close()
            raise ValueError(f"--out {str(directory)!r} is in use by {owner}; wait for it to "
                             "finish or choose another --out") from None
        self.stale = self._owner()
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(json.dumps({
            "command": command, "pid": os.getpid(), "host": socket.gethostname(),
            "started": _dt.datetime.now().isoformat(timespec="seconds")}))
        self._fh.flush()

    def _owner(self) -> str | None:
        self._fh.seek(0)
        try:
            info = json.loads(self._fh.read() or "null")
            return (f"{info['command']} (PID {info['pid']} on {info['host']}, started "
                    f"{info['started']})") if info else None
        except (ValueError, KeyError, TypeError):
            return None

    def release(self) -> None:
        if not self._fh.closed:
            self._fh.seek(0)
            self._fh.truncate()
            self._fh.close()  # closing drops the flock


class RunDir:
    """A run's output directory.

    An earlier run's outputs are versioned, never overwritten: when the directory already
    holds files other than ``log.txt`` (a finished run, or one that stopped), they are moved to
    ``versions/<n>/`` before this run writes anything (``log.txt`` is appended to instead), and
    :attr:`previous` names that folder; so no file of an earlier run ever sits beside this
    run's. Sub-folders (checkpoints) are left as they are, since resuming reads them.

    The directory is owned by this run until :meth:`close` (:class:`RunLock`): a second
    process that opens it meanwhile gets a ``ValueError``.

    Parameters
    ----------
    path
        Directory to create (parents included).
    command
        Who owns it while it is open (named to a second process that tries to open it).
    """

    def __init__(self, path: str | Path, command: str = "psfl"):
        self.path, self.command = Path(path), command
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"--out {str(self.path)!r} is an existing file; give a directory")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self.lock = RunLock(self.path, command)
        except OSError as exc:
            raise ValueError(f"cannot write to output directory {str(self.path)!r}: "
                             f"{exc.strerror}; choose another --out") from exc
        try:
            self.previous = self._version_earlier_outputs()
            self._log = open(self.path / "log.txt", "a", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            self.lock.release()
            raise ValueError(f"cannot write to output directory {str(self.path)!r}: "
                             f"{exc.strerror}; choose another --out") from exc
        if self.lock.stale is not None:
            self.log(f"took over the lock of {self.lock.stale}, which no longer runs")
        if self.previous is not None:
            self.log(f"earlier outputs moved to {self.previous.relative_to(self.path)}/")

    def _version_earlier_outputs(self) -> Path | None:
        files = [p for p in self.path.iterdir()
                 if p.is_file() and p.name != "log.txt" and not p.name.startswith(".")]
        if not files:
            return None
        dest = self.new_version()
        for p in files:
            p.replace(dest / p.name)
        return dest

    def restore_previous(self) -> bool:
        """Undo the versioning when this run failed before writing any output of its own (bad
        input found after the directory was opened): the earlier run's files go back in place
        and this run's ``config.toml``/``run.json`` are removed. Returns whether it did."""
        if self.previous is None:
            return False
        mine = [p for p in self.path.iterdir() if p.is_file() and p.name != "log.txt"
                and not p.name.startswith(".")]
        if any(p.name not in ("config.toml", "run.json") for p in mine):
            return False
        for p in mine:
            p.unlink()
        for p in self.previous.iterdir():
            p.replace(self.path / p.name)
        self.previous.rmdir()
        if not any(self.previous.parent.iterdir()):
            self.previous.parent.rmdir()
        self.log(f"earlier outputs moved back from {self.previous.relative_to(self.path)}/")
        self.previous = None
        return True

    def new_version(self) -> Path:
        """A new, empty ``versions/<n>/`` folder for outputs of an earlier run."""
        root = self.path / "versions"
        n = 1 + max((int(p.name) for p in root.glob("*") if p.name.isdigit()), default=0)
        dest = root / str(n)
        dest.mkdir(parents=True)
        return dest

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def file(self, name: str) -> Path:
        return self.path / name

    def log(self, message: str, *, echo: bool = False) -> None:
        stamp = _dt.datetime.now().isoformat(timespec="seconds")
        self._log.write(f"{stamp} {message}\n")
        self._log.flush()
        if echo:
            print(message, file=sys.stderr)

    def write_text(self, name: str, text: str) -> Path:
        path = self.file(name)
        atomic_write_bytes(path, text.encode("utf-8"))
        return path

    def write_config(self, config: Any) -> Path:
        """Write ``config.toml`` from a :class:`psfl.config.Config`."""
        return self.write_text("config.toml", config.to_toml())

    def write_json(self, name: str, data: Mapping[str, Any]) -> Path:
        text = json.dumps(jsonable(data), indent=2, sort_keys=False)
        return self.write_text(name, text + "\n")

    def write_summary(self, data: Mapping[str, Any]) -> Path:
        return self.write_json("summary.json", data)

    def write_csv(self, name: str, rows: Sequence[Mapping[str, Any]],
                  fieldnames: Sequence[str] | None = None) -> Path:
        """Write ``rows`` (dicts) as CSV (:func:`csv_text`)."""
        return self.write_text(name, csv_text(rows, fieldnames))

    def save_figure(self, fig: Any, name: str, dpi: int = 150) -> Path:
        """Save a matplotlib figure as ``name`` (PNG) and beside it as PDF
        (:func:`psfl.plotting.save`), then close it. Returns the PNG's path."""
        from psfl.plotting import save

        save(fig, name, lambda n, data: atomic_write_bytes(self.file(n), data), dpi=dpi)
        return self.file(name)

    def close(self) -> None:
        if not self._log.closed:
            self._log.close()
        self.lock.release()

    def __enter__(self) -> RunDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress(iterable: Iterable[Any] | None = None, *, desc: str = "", total: int | None = None,
             unit: str = "it", leave: bool = True, disable: bool | None = None) -> Any:
    """Progress of long work, shown where the user is looking.

    - a terminal: a tqdm bar on stderr;
    - a notebook: tqdm's widget (its text bar where ipywidgets is not installed);
    - anything else (a log file, CI, a pipe): :class:`LogProgress`, one line on stderr every
      ``PSFL_PROGRESS_EVERY`` seconds (default 30) with an ETA that leaves out the first step's
      compilation.

    ``PSFL_PROGRESS=1`` forces tqdm bars, ``PSFL_PROGRESS=0`` turns all progress off, as does
    ``disable=True``. The object returned iterates ``iterable`` and has tqdm's ``update``,
    ``set_postfix`` and ``close``.
    """
    from tqdm import tqdm

    env = os.environ.get("PSFL_PROGRESS")
    notebook = _in_notebook()
    if disable is None and env is None and not sys.stderr.isatty() and not notebook:
        return LogProgress(iterable, desc=desc, total=total, unit=unit, every=_every())
    if disable is None:
        disable = env == "0"
    if notebook and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.notebook import tqdm  # a widget; without ipywidgets the text bar, unwarned
    return tqdm(iterable, desc=desc, total=total, unit=unit, leave=leave, disable=disable,
                dynamic_ncols=True)


def _every() -> float:
    text = os.environ.get("PSFL_PROGRESS_EVERY", "30")
    try:
        every = float(text)
    except ValueError:
        every = math.nan
    if not every >= 0:
        raise ValueError(f"PSFL_PROGRESS_EVERY={text!r}: give the seconds between progress "
                         "lines, e.g. 30")
    return every


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    ip = shell.get_ipython() if shell is not None else None  # type: ignore[attr-defined]
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def duration(seconds: float) -> str:
    """A time span with its unit at the precision a reader needs: ``4.2 ms`` under a second,
    ``4.2 s`` under ten, then whole seconds: ``45 s``, ``2 min 05 s``, ``1 h 02 min``."""
    if round(abs(seconds) * 1e3, 1) < 1000:
        return f"{seconds * 1e3:.1f} ms"
    if round(abs(seconds), 1) < 10:
        return f"{seconds:.1f} s"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class LogProgress:
    """Progress as plain lines for logs: ``desc: 120/8000 steps (1.5 %), 45 s, 2.7 steps/s,
    ETA 48 min 30 s``, at most one line every ``every`` seconds and a closing line if any was
    written (short work writes nothing).

    The rate, and so the ETA, is measured from the end of the first step to now: the first step
    of compiled work includes tracing and XLA compilation, which the remaining steps do not
    repeat (ours). ``clock`` and ``write`` are for tests.
    """

    def __init__(self, iterable: Iterable[Any] | None = None, *, desc: str = "",
                 total: int | None = None, unit: str = "it", every: float = 30.0,
                 clock: Any = None, write: Any = None) -> None:
        import time

        self.iterable, self.desc, self.unit, self.every = iterable, desc, unit, every
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        self.total, self.n, self.postfix = total, 0, ""
        self._clock = clock or time.monotonic
        self._write = write or (lambda line: print(line, file=sys.stderr, flush=True))
        self._start = self._last = self._clock()
        self._first: tuple[float, int] | None = None  # (time, n) when the first step ended
        self._lines, self._emitted_n = 0, -1
        self._closed = False

    def __iter__(self) -> Iterator[Any]:
        for item in self.iterable or ():
            yield item
            self.update(1)
        self.close()

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        now = self._clock()
        self.n += n
        if self._first is None and self.n > 0:
            self._first = (now, self.n)
        if now - self._last >= self.every:
            self._emit(now)

    def set_postfix(self, **kwargs: Any) -> None:
        self.postfix = ", ".join(f"{k}={v}" for k, v in kwargs.items())

    def line(self, now: float) -> str:
        """The progress line at time ``now``."""
        done = f"{self.n}/{self.total}" if self.total else f"{self.n}"
        if self.total:
            done += f" {self.unit} ({100 * self.n / self.total:.1f} %)"
        else:
            done += f" {self.unit}"
        parts = [f"{self.desc}: {done}" if self.desc else done,
                 f"{duration(now - self._start)} elapsed"]
        if self._first is not None and self.n > self._first[1] and now > self._first[0]:
            rate = (self.n - self._first[1]) / (now - self._first[0])
            parts.append(f"{rate:.3g} {self.unit}/s" if rate >= 1 else
                         f"{1 / rate:.3g} s/{self.unit}")
            if self.total and self.n < self.total:
                parts.append(f"ETA {duration((self.total - self.n) / rate)}")
        if self.postfix:
            parts.append(self.postfix)
        return ", ".join(parts)

    def _emit(self, now: float) -> None:
        self._write(self.line(now))
        self._last, self._lines, self._emitted_n = now, self._lines + 1, self.n

    def close(self) -> None:
        """A closing line, if any line was written: "(stopped)" short of the total, "(done)"
        unless the last line already showed the end."""
        done = self.total is None or self.n >= self.total
        if not self._closed and self._lines and not (done and self._emitted_n == self.n):
            self._write(self.line(self._clock()) + (" (done)" if done else " (stopped)"))
        self._closed = True


def mosaic(rows: Sequence[Any], pad: int = 2) -> Any:
    """Stack rows of images into one picture on a white background, ``pad`` px apart.

    Input
    -----
    rows : sequence of float arrays [n, H, W, 3] in [0, 1], all with the same n, H, W

    Output
    ------
    np.ndarray, float32, [rows·(H+pad)−pad, n·(W+pad)−pad, 3]
    """
    import numpy as np

    n, h, w, _ = np.shape(rows[0])
    out = np.ones((len(rows) * (h + pad) - pad, n * (w + pad) - pad, 3), np.float32)
    for r, imgs in enumerate(rows):
        for c, img in enumerate(imgs):
            out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = img
    return out
