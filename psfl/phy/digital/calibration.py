r"""MCS threshold tables of the digital baseline, per channel configuration.

The baseline picks, per image, the highest MCS whose threshold SNR is at most the link SNR
(:meth:`psfl.phy.digital.DigitalBaseline.select_mcs`). A fair choice needs thresholds measured
over the channel actually simulated: they are the SNRs an outer-loop link adaptation converges
to. This module measures, ships, caches and looks up such tables.

**Threshold.** For MCS :math:`i` the threshold is the SNR ``snr_db`` of the link (as
:class:`~psfl.phy.link.UplinkLink` defines it) at which the transport-block error rate of the
CRC24A + 5G LDPC + QAM chain (:mod:`psfl.phy.digital.chain`, 20 BP iterations) over ``k`` channel
uses crosses ``target_bler`` = 10 %. It is found by bisection between the constellation-free
Shannon limit :math:`10\log_{10}(2^{mR} - 1) - 10\log_{10} N_r` (where the BLER must be ~1 for any
channel with :math:`E|h|^2 = 1` and :math:`N_r` receive antennas) and that limit plus ``span_db``;
the bracket is widened (up to 4 times) when its top does not reach the target, and an MCS that
never does gets ``None`` (never selected). Every SNR point uses the same seed (common random
numbers: the same payloads, noise and fading draws), so the measured BLER is monotone in SNR and
comparable across MCSs. Measured thresholds are then made non-decreasing in the index by a running
maximum (:func:`~psfl.phy.digital.mcs.monotone_thresholds`); the raw values are kept in the
file as ``measured_db``.

**Key.** A table holds for a *channel configuration*: the :class:`~psfl.phy.config.PhyConfig`
fields that change the BLER, plus ``k`` and the chain's settings (:func:`table_key`). Ours, by
the channel's capabilities (:class:`~psfl.phy.channels.registry.ChannelModel`):

* always: ``channel``, ``csi``, ``equalizer``, ``num_rx_ant`` (combining gain);
* every fading channel (all but AWGN), and any channel with LS estimation: the slot grid
  (``num_subcarriers``, ``num_ofdm_symbols``, ``pilot_pattern``, ``pilot_ofdm_symbol_indices``),
  which sets how many independently fading slots one image spans; with LS also
  ``ls_freq_window``;
* channels with an impulse response (TDL/CDL and umi/uma/rma): ``carrier_hz``, ``scs_hz``,
  ``fft_size``, ``cp_length``, ``speed_mps``, ``delay_spread_s`` (frequency and time
  selectivity);
* channels with path loss (umi/uma/rma): the link-budget fields too (their ``snr_db`` is an
  offset to the budget).

AWGN with perfect CSI is :math:`y = x + n` whatever the numerology, so its table holds for
every grid. The SNR range (``snr_db_min/max``) never enters.

**Where tables live.** Shipped tables are ``psfl/phy/mcs/<channel>-<csi>-k<k>.json`` (measured by
``benchmarks/mcs_thresholds.py``); tables calibrated on demand go to the user cache
``$PSFL_CACHE/mcs`` (default ``$XDG_CACHE_HOME/psfl/mcs`` or ``~/.cache/psfl/mcs``), one file per
key, ``<channel>-<csi>-k<k>-<sha256 of the key, 12 hex>.json``. :func:`thresholds_for` looks in
the shipped folder, then the cache; a shipped table for the same channel, CSI and ``k`` but
another key is refused with a :class:`ValueError` naming the differing fields and the fix,
never used silently.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from ..channels.registry import CHANNELS
from ..config import PhyConfig
from ..link import LinkFn, UplinkLink
from .chain import TransportChain
from .mcs import MCS_INDICES, mcs_table, monotone_thresholds, transport_format

__all__ = [
    "SHIPPED_DIR",
    "TARGET_BLER",
    "block_error_rate",
    "cache_dir",
    "calibrate_mcs_thresholds",
    "link_mcs_thresholds",
    "load_table",
    "measure_table",
    "monotone_thresholds",
    "table_key",
    "thresholds_for",
    "write_table",
]

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "mcs"
"""Folder of the tables shipped with psfl, ``psfl/phy/mcs`` (package data)."""

TARGET_BLER = 0.1
NUM_ITER = 20
TABLE_INDEX = 2  # 38.214 Table 5.1.3.1-2

_BASE_FIELDS = ("channel", "csi", "equalizer", "num_rx_ant")
_GRID_FIELDS = ("num_subcarriers", "num_ofdm_symbols", "pilot_pattern",
                "pilot_ofdm_symbol_indices")
_WAVEFORM_FIELDS = ("carrier_hz", "scs_hz", "fft_size", "cp_length", "speed_mps",
                    "delay_spread_s")
_BUDGET_FIELDS = ("distance_m", "bs_height_m", "ut_height_m", "tx_power_dbm", "noise_figure_db",
                  "tx_antenna_gain_dbi", "rx_antenna_gain_dbi", "bandwidth_hz")


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------


def _awgn(x: tf.Tensor, snr_db: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    no = tf.pow(10.0, -tf.cast(snr_db, tf.float32) / 10.0)
    no = tf.broadcast_to(tf.reshape(no, [-1, 1]), tf.shape(x))
    std = tf.sqrt(no / 2.0)
    n = tf.complex(tf.random.normal(tf.shape(x)) * std, tf.random.normal(tf.shape(x)) * std)
    return x + n, no


def block_error_rate(
    chain: TransportChain,
    snr_db: float,
    num_blocks: int = 200,
    link: LinkFn | None = None,
    seed: int = 0,
) -> float:
    """Transport-block error rate (CRC failures) of a chain at one SNR.

    Parameters
    ----------
    chain : TransportChain
        The chain to measure.
    snr_db : float
        Es/N0 (dB).
    num_blocks : int (default 200)
        Random transport blocks sent.
    link : `None` (default, AWGN) | callable
        ``link(x, snr_db) -> (y, no_eff)``.
    seed : int (default 0)
        Seed of the payload bits, of the AWGN noise and of Sionna's generator (the link's noise
        and fading).

    Output
    ------
    : float
        Fraction of blocks whose CRC failed or whose bits differ.
    """
    from sionna.phy import config as sn_config

    tf.random.set_seed(seed)
    sn_config.seed = seed
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, (num_blocks, chain.fmt.payload_bits)).astype(np.float32)
    x = chain.encode(tf.constant(bits))
    y, no = (link or _awgn)(x, tf.fill([num_blocks], tf.constant(snr_db, tf.float32)))
    bits_hat, ok = chain.decode(y, tf.broadcast_to(tf.cast(no, tf.float32), tf.shape(y)))
    err = ~ok.numpy() | np.any(bits_hat.numpy() != bits, axis=1)
    return float(np.mean(err))


def calibrate_mcs_thresholds(
    k: int = 512,
    target_bler: float = TARGET_BLER,
    num_blocks: int = 400,
    resolution_db: float = 0.05,
    indices: Sequence[int] = MCS_INDICES,
    num_iter: int = NUM_ITER,
    verbose: bool = False,
    link: LinkFn | None = None,
    span_db: float = 8.0,
    gain_db: float = 0.0,
    seed: int = 0,
    on_point: Callable[[], None] | None = None,
    mode: str = "graph",
) -> dict[int, float | None]:
    """Measures, per MCS, the SNR at which the block error rate crosses ``target_bler``.

    Bisection as described in the module docstring.

    Parameters
    ----------
    k : int (default 512)
        Channel uses per block.
    target_bler : float (default 0.1)
        Block error rate defining the threshold.
    num_blocks : int (default 400)
        Blocks per SNR point.
    resolution_db : float (default 0.05)
        Bisection stops at this bracket width.
    indices : sequence of int
        MCS indices to calibrate.
    num_iter : int (default 20)
        LDPC iterations.
    verbose : bool (default `False`)
        Print each result.
    link : `None` (default, AWGN) | callable
        ``link(x, snr_db) -> (y, no_eff)``, e.g. :class:`psfl.phy.UplinkLink` over a fading
        channel.
    span_db : float (default 8)
        Width of the initial bracket above the Shannon limit (fading needs more, e.g. 24).
    gain_db : float (default 0)
        Array gain subtracted from the bracket's lower end (``10 log10(num_rx_ant)``).
    seed : int (default 0)
        Seed of every SNR point (common random numbers).
    on_point : `None` (default) | callable
        Called after every measured SNR point (progress bars).
    mode : "graph" (default) | "xla" | "eager"
        How the coding chains run (eager saves the tracing for a few small points).

    Output
    ------
    : dict
        MCS index -> threshold (dB), rounded to ``resolution_db``; `None` for an MCS whose BLER
        stays above the target up to the Shannon limit plus ``16 * span_db``.
    """
    table = {m.index: m for m in mcs_table()}
    result: dict[int, float | None] = {}

    def bler(chain: TransportChain, snr: float) -> float:
        value = block_error_rate(chain, snr, num_blocks, link=link, seed=seed)
        if on_point is not None:
            on_point()
        return value

    for i in indices:
        t0 = time.perf_counter()
        chain = TransportChain(transport_format(k, table[i]), num_iter=num_iter, mode=mode)
        lo = 10 * math.log10(2 ** table[i].spectral_efficiency - 1) - gain_db
        hi, span = lo + span_db, span_db
        while bler(chain, hi) > target_bler and span < 16 * span_db:
            lo, span = hi, 2 * span
            hi = lo + span
        if span >= 16 * span_db and bler(chain, hi) > target_bler:
            result[i] = None
        else:
            while hi - lo > resolution_db:
                mid = 0.5 * (lo + hi)
                if bler(chain, mid) > target_bler:
                    lo = mid
                else:
                    hi = mid
            result[i] = round(round(hi / resolution_db) * resolution_db, 2)
        if verbose:
            print(f"MCS {i:2d}: {result[i]} dB ({time.perf_counter() - t0:.1f} s)", flush=True)
    return result


def bisection_points(span_db: float, resolution_db: float) -> int:
    """SNR points one MCS needs when the initial bracket holds the threshold."""
    return 1 + max(0, math.ceil(math.log2(span_db / resolution_db)))


def usable_indices(k: int) -> list[int]:
    """MCS indices with a transport format for ``k`` channel uses (payload of at least 1 byte)."""
    out = []
    for m in mcs_table():
        try:
            transport_format(k, m)
        except ValueError:
            continue
        out.append(m.index)
    return out


def link_mcs_thresholds(link: LinkFn, k: int, num_blocks: int = 100,
                        resolution_db: float = 0.25, verbose: bool = False,
                        span_db: float = 24.0, gain_db: float = 0.0, seed: int = 0,
                        on_point: Callable[[], None] | None = None) -> dict[int, float | None]:
    """10 %-BLER thresholds of every MCS usable with ``k``, measured over ``link``.

    Input
    -----
    link : callable
        ``link(x, snr_db) -> (y, no_eff)``, e.g. :class:`psfl.phy.UplinkLink` (wrapped in
        ``tf.function`` here).
    k : int
        Channel uses per transport block.

    Output
    ------
    : dict
        MCS index -> threshold (dB) as :func:`calibrate_mcs_thresholds`, not yet monotone.
    """
    return calibrate_mcs_thresholds(k, num_blocks=num_blocks, resolution_db=resolution_db,
                                    indices=usable_indices(k), verbose=verbose,
                                    link=tf.function(link), span_db=span_db, gain_db=gain_db,
                                    seed=seed, on_point=on_point)


# ---------------------------------------------------------------------------------------------
# Keys and files
# ---------------------------------------------------------------------------------------------


def key_fields(cfg: PhyConfig) -> tuple[str, ...]:
    """The PhyConfig fields that change the BLER of ``cfg``'s channel (module docstring)."""
    model = CHANNELS.cls(cfg.channel)
    fields = _BASE_FIELDS
    if model.fading or cfg.csi == "ls":
        fields += _GRID_FIELDS + (("ls_freq_window",) if cfg.csi == "ls" else ())
    if model.has_cir:
        fields += _WAVEFORM_FIELDS
    if model.has_pathloss:
        fields += _BUDGET_FIELDS
    return fields


def table_key(cfg: PhyConfig, k: int) -> dict[str, Any]:
    """The key a table holds for: ``k``, the chain's settings and :func:`key_fields` of ``cfg``."""
    key: dict[str, Any] = {"k": int(k), "target_bler": TARGET_BLER, "num_iter": NUM_ITER,
                           "mcs_table": TABLE_INDEX}
    for f in key_fields(cfg):
        v = getattr(cfg, f)
        key[f] = list(v) if isinstance(v, tuple) else v
    return json.loads(json.dumps(key))  # the form it has after a round trip through a file


def _stem(key: dict[str, Any]) -> str:
    return f"{key['channel']}-{key['csi']}-k{key['k']}"


def _digest(key: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]


def cache_dir() -> Path:
    """User cache of calibrated tables: ``$PSFL_CACHE/mcs``, else ``$XDG_CACHE_HOME/psfl/mcs``,
    else ``~/.cache/psfl/mcs``."""
    root = os.environ.get("PSFL_CACHE")
    if root:
        return Path(root).expanduser() / "mcs"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "psfl" / "mcs"


def load_table(path: Path) -> tuple[dict[str, Any], dict[int, float]]:
    """Reads a table file: ``(key, thresholds)`` with thresholds as MCS index -> dB (`None` in
    the file, an MCS that never reached the target, becomes ``inf``)."""
    try:
        record = json.loads(Path(path).read_text())
        return record["key"], _thresholds(record)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"MCS table {path} is unreadable ({exc}); delete it and measure again "
                         "(benchmarks/mcs_thresholds.py or calibrate=True)") from exc


def _thresholds(record: dict[str, Any]) -> dict[int, float]:
    return {int(i): math.inf if v is None else float(v)
            for i, v in record["thresholds_db"].items()}


def write_table(path: Path, record: dict[str, Any]) -> Path:
    """Writes a table record atomically (a temporary file renamed over ``path``)."""
    from psfl.results import atomic_write_bytes

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, (json.dumps(record, indent=1) + "\n").encode("utf-8"))
    return path


def _mismatch(stored: dict[str, Any], wanted: dict[str, Any]) -> str:
    names = sorted(set(stored) | set(wanted))
    return ", ".join(f"{n}={stored.get(n)!r} (here {wanted.get(n)!r})"
                     for n in names if stored.get(n) != wanted.get(n))


# ---------------------------------------------------------------------------------------------
# Measuring a table and looking one up
# ---------------------------------------------------------------------------------------------


def measure_table(cfg: PhyConfig, k: int, *, num_blocks: int | None = None,
                  resolution_db: float | None = None, seed: int = 0, show_progress: bool = True,
                  indices: Sequence[int] | None = None, mode: str = "graph",
                  command: str = "") -> dict[str, Any]:
    """Measures the table of ``cfg`` and ``k`` over :class:`~psfl.phy.link.UplinkLink` ``(cfg)``.

    Parameters
    ----------
    cfg : PhyConfig
        Channel configuration.
    k : int
        Channel uses per image.
    num_blocks : `None` (default) | int
        Blocks per SNR point: 200 on AWGN with perfect CSI, 400 otherwise.
    resolution_db : `None` (default) | float
        Bisection resolution: 0.1 dB on AWGN with perfect CSI, 0.25 dB otherwise.
    seed : int (default 0)
        Seed of every SNR point.
    show_progress : bool (default `True`)
        Progress bar on stderr (:func:`psfl.results.progress`).
    indices : `None` (default: every MCS usable with ``k``) | sequence of int
        MCS indices to measure (the others keep the AWGN defaults when the table is used).
    mode : "graph" (default) | "eager"
        Link and coding chains as ``tf.function`` or eager (faster for a few small points).
    command : str (default "")
        Command line recorded in the file.

    Output
    ------
    : dict
        The record :func:`write_table` stores: ``key``, ``thresholds_db`` (monotone),
        ``measured_db`` (raw), the settings, wall time and versions.
    """

    from psfl.results import progress


    model = CHANNELS.cls(cfg.channel)
    if model.has_pathloss:
        raise ValueError(f"MCS thresholds over {cfg.channel} are not measured: its snr_db is an "
                         "offset to a random link budget; calibrate the small-scale channel "
                         "instead (e.g. phy.channel=tdl-c) and select the MCS on the budget SNR")
    plain = not model.fading and cfg.csi == "perfect"
    num_blocks = num_blocks or (200 if plain else 400)
    resolution_db = resolution_db or (0.1 if plain else 0.25)
    span_db = 8.0 if plain else 24.0
    indices = usable_indices(k) if indices is None else [int(i) for i in indices]
    bar = progress(total=len(indices) * bisection_points(span_db, resolution_db),
                   desc=f"MCS thresholds {cfg.channel}/{cfg.csi} k={k}", unit="point",
                   disable=None if show_progress else True)
    t0 = time.perf_counter()
    try:
        raw = calibrate_mcs_thresholds(
            k, num_blocks=num_blocks, resolution_db=resolution_db, indices=indices,
            link=UplinkLink(cfg) if mode == "eager" else tf.function(UplinkLink(cfg)),
            span_db=span_db, gain_db=10 * math.log10(cfg.num_rx_ant), seed=seed,
            on_point=lambda: bar.update(1), mode=mode)
    finally:
        bar.close()
    mono = monotone_thresholds({i: math.inf if v is None else v for i, v in raw.items()})
    from psfl.provenance import environment

    return {
        "key": table_key(cfg, k),
        "thresholds_db": {str(i): None if math.isinf(v) else v for i, v in mono.items()},
        "measured_db": {str(i): v for i, v in raw.items()},
        "rule": "running maximum over increasing MCS index (psfl.phy.digital.mcs."
                "monotone_thresholds)",
        "num_blocks": num_blocks, "resolution_db": resolution_db, "span_db": span_db,
        "seed": seed, "wall_s": round(time.perf_counter() - t0, 1),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **environment(), "command": command,
    }


def thresholds_for(cfg: PhyConfig, k: int, *, calibrate: bool = False,
                   cache: Path | None = None, shipped: Path = SHIPPED_DIR,
                   log: Callable[[str], Any] | None = None,
                   **measure: Any) -> dict[int, float] | None:
    """The MCS thresholds for the channel configuration ``cfg`` and ``k`` channel uses.

    Parameters
    ----------
    cfg : PhyConfig
        Channel configuration (see :func:`table_key` for the fields that count).
    k : int
        Channel uses per image.
    calibrate : bool (default `False`)
        Measure the table if none holds for ``cfg`` (minutes, with a progress bar) and cache it.
    cache : `None` (default, :func:`cache_dir`) | Path
        Folder of calibrated tables.
    shipped : Path (default :data:`SHIPPED_DIR`)
        Folder of shipped tables.
    log : `None` (default) | callable
        Receives one line before a measurement starts and where its result went.
    **measure
        Passed to :func:`measure_table` (``num_blocks``, ``resolution_db``, ``seed``,
        ``indices``, ``mode``, ``show_progress``).

    Output
    ------
    : dict | `None`
        MCS index -> threshold (dB, non-decreasing; ``inf`` for an MCS never to select), for
        ``DigitalBaseline(k, thresholds_db=...)``; `None` if no table holds and ``calibrate`` is
        off. Raises `ValueError` when the shipped table for this channel, CSI and ``k`` was
        measured for another configuration and ``calibrate`` is off.
    """
    key = table_key(cfg, k)
    cache = cache_dir() if cache is None else Path(cache)
    name = _stem(key)
    refused = None
    for path in (shipped / f"{name}.json", cache / f"{name}-{_digest(key)}.json"):
        if not path.is_file():
            continue
        stored, th = load_table(path)
        if stored == key:
            return th
        if path.parent == shipped and refused is None:
            refused = (path, _mismatch(stored, key))
    if not calibrate:
        if refused is not None:
            raise ValueError(
                f"the MCS table {refused[0].name} shipped for {cfg.channel}/{cfg.csi}/k={k} was "
                f"measured for {refused[1]}; calibrate this configuration (psfl link: "
                "semantic.baseline_calibrate=true; or python benchmarks/mcs_thresholds.py with "
                "the same phy settings), or use the shipped settings")
        return None
    path = cache / f"{name}-{_digest(key)}.json"
    if log:
        log(f"measuring the digital baseline's MCS thresholds over {cfg.channel} ({cfg.csi} CSI, "
            f"k={k}): a few minutes, once; cached in {path}")
    record = measure_table(cfg, k, **measure)
    try:
        write_table(path, record)
    except OSError as exc:  # a read-only home: measure again next time
        if log:
            log(f"could not cache the MCS table ({exc}); it will be measured again next time")
    return _thresholds(record)
