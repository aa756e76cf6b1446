r"""PHY abstraction of the photo baseline: each code block's fate from its per-symbol SINRs.

Belief propagation over millions of coded bits takes minutes on a CPU; a link abstraction
predicts a code block's error probability from the SINRs its symbols saw and draws its fate.
Everything that carries the physics is Sionna's (:mod:`sionna.sys`), nothing is re-tabulated:

1. **Post-equalization SINR per symbol.** The link returns unbiased equalized symbols
   :math:`y_j = x_j + e_j` with error variance ``no_eff[j]``, so for unit-power QAM symbols
   :math:`\mathrm{SINR}_j = 1 / \mathrm{no\_eff}_j` (LS estimation error and, in the time
   domain, ISI/ICI included, as the link accounts them in ``no_eff``).
2. **Effective SINR per code block** (:class:`sionna.sys.EESM`, its calibrated
   :math:`\beta` per MCS of 38.214 Table 5.1.3.1-2): over the symbols
   :math:`\mathcal{S}_r` of code block ``r`` (contiguous, :attr:`~.segmentation.TBLayout.cb_symbols`),
   :math:`\gamma_r = -\beta \ln\big(\frac{1}{|\mathcal{S}_r|}\sum_{j\in\mathcal{S}_r}
   e^{-\mathrm{SINR}_j/\beta}\big)`.
   Sionna's :class:`~sionna.sys.PHYAbstraction` computes one effective SINR per *transport
   block* (all REs of a user in a slot) and takes TBLER :math:`= 1-(1-\mathrm{BLER})^C`;
   psfl's CBs of one slot see different OFDM symbols (time variation, LS error per symbol), so
   the SINR is compressed per code block instead (ours, same EESM).
3. **Code-block BLER** (:meth:`sionna.sys.PHYAbstraction.get_bler`): Sionna's 5G BLER tables
   (AWGN, LDPC with Sionna's decoder) for the MCS and the code block size :math:`K'`,
   interpolated on its (CBS, SINR) grid (0.1 dB, 100 bits). psfl's MCS table (38.214 Table
   5.1.3.1-2, CP-OFDM PUSCH) is the one Sionna files as *category 1 (PDSCH), table 2*; its
   "PUSCH" category assumes transform precoding (Table 6.1.4.1-2, other rates). The channel
   coding of PUSCH and PDSCH is the same, so the table applies.
   **Interpolation** (ours, through PHYAbstraction's ``interp_fun`` hook): Sionna's tables
   are sampled every ~1.6 dB of SINR, while the waterfall of a code block of a few thousand
   bits falls from 90 % to 1 % within ~0.5 dB, so Sionna's default (log-linear spline of the
   BLER) puts most of a waterfall at the wrong SINR, and above the last tabulated SINR (25 dB)
   it holds the last value (10-15 % for MCS 26 and 27 at any SINR). :class:`ProbitInterpolation`
   interpolates linearly the *probit* :math:`z = \Phi^{-1}(1-\mathrm{BLER})` instead, with
   BLER clipped to :math:`[10^{-5}, 1-10^{-5}]` (the resolution of ~1e5 simulated blocks),
   which is a straight line in SINR for a Gaussian-like waterfall: between a tabulated 99 % and
   1 % it puts 50 % half-way, and it extends the last segment beyond the table. Along the code
   block size it interpolates :math:`z` linearly and holds the end rows: blocks larger than
   the largest tabulated size (2000 bits) read the 2000-bit row, slightly pessimistic below
   50 % BLER, where longer codes have steeper waterfalls. ``interpolation="sionna"`` keeps
   Sionna's default (for comparison).
4. **Fate.** Code block ``r`` is lost with probability :math:`\mathrm{BLER}_r`, drawn with a
   seeded NumPy generator; a TB is received iff all its code blocks are (CRC24A and CRC24B
   are assumed to detect every error: the abstraction knows no undetected errors).

On success the receiver knows the transmitted payload (the abstraction skips decoding, the
bits are the transmitter's).

Validation against the full LDPC chain: ``benchmarks/bench_abstraction.py`` and its section
of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from scipy.special import ndtr, ndtri
from sionna.phy.utils import Interpolate, SplineGriddataInterpolation
from sionna.sys import EESM, PHYAbstraction

from .segmentation import TBLayout

__all__ = ["BLER_TABLE", "INTERPOLATIONS", "MCS_CATEGORY", "MCS_TABLE_INDEX",
           "CodeBlockAbstraction", "ProbitInterpolation", "phy_abstraction"]

MCS_TABLE_INDEX = 2  # 38.214 Table 5.1.3.1-2, psfl's MCS table (psfl.phy.digital.mcs)
MCS_CATEGORY = 1  # Sionna's category holding that table without transform precoding
BLER_TABLE = "PDSCH_table2.json"  # Sionna's file with category 1, table 2
MIN_NOISE_VAR = 1e-6  # same floor as the LDPC chain's demapper (SINR at most 60 dB)
PROBIT_CLIP = 1e-5  # BLER 0 and 1 of the tables stand for "below/above the simulated 1e-5"
INTERPOLATIONS = ("probit", "sionna")
"""BLER-table interpolations: :class:`ProbitInterpolation` (default) or Sionna's own."""


class ProbitInterpolation(Interpolate):
    r"""BLER tables interpolated linearly in the probit :math:`\Phi^{-1}(1-\mathrm{BLER})`.

    A :class:`sionna.phy.utils.Interpolate` for :class:`sionna.sys.PHYAbstraction`'s
    ``interp_fun``; see the module docstring for why.

    Input (:meth:`struct`)
    -----
    z : [N, M], np.ndarray
        BLER at code block sizes ``x`` [N] and SINRs ``y`` [M] (dB), both increasing.
    x, y : [N], [M], np.ndarray
    x_interp, y_interp : [L], [J], np.ndarray
        Grid to interpolate on.

    Output (:meth:`struct`)
    ------
    : [L, J], np.ndarray
        BLER; linear in the probit along ``y`` (the end segments extended), along ``x`` (the
        end rows held).
    """

    def struct(self, z: Any, x: Any, y: Any, x_interp: Any, y_interp: Any,
               **kwargs: Any) -> np.ndarray:
        p = ndtri(1.0 - np.clip(np.asarray(z, np.float64), PROBIT_CLIP, 1.0 - PROBIT_CLIP))
        y, yi = np.asarray(y, np.float64), np.asarray(y_interp, np.float64)
        rows = np.empty((p.shape[0], yi.size))
        for i, row in enumerate(p):
            r = np.interp(yi, y, row)
            lo, hi = yi < y[0], yi > y[-1]
            r[lo] = row[0] + (yi[lo] - y[0]) * (row[1] - row[0]) / (y[1] - y[0])
            r[hi] = row[-1] + (yi[hi] - y[-1]) * (row[-1] - row[-2]) / (y[-1] - y[-2])
            rows[i] = r
        x = np.asarray(x, np.float64)
        out = np.stack([np.interp(x_interp, x, rows[:, j]) for j in range(yi.size)], axis=1)
        return ndtr(-out)

    def unstruct(self, z: Any, x: Any, y: Any, x_interp: Any, y_interp: Any,
                 **kwargs: Any) -> np.ndarray:
        """Scattered data (Sionna's BLER -> SINR table, unused here): Sionna's griddata."""
        return SplineGriddataInterpolation().unstruct(z, x, y, x_interp, y_interp, **kwargs)


class _BlerOnly(PHYAbstraction):
    """Sionna's PHY abstraction without the inverse (BLER -> SINR) table.

    That table serves Sionna's link adaptation, not this module, and costs 7-10 s of scipy
    ``griddata`` at construction (measured on 2 busy cores); the forward table this module
    reads is built as in Sionna."""

    def _interpolate_snr(self) -> None:
        return None


@functools.cache
def phy_abstraction(interpolation: str = "probit",
                    bler_tables: tuple[str, ...] = ()) -> PHYAbstraction:
    """Sionna's :class:`~sionna.sys.PHYAbstraction` with the BLER table of psfl's MCS table
    interpolated by ``interpolation`` (:data:`INTERPOLATIONS`), built once per process.
    ``bler_tables``: further files in Sionna's format (e.g. finer ones written by
    :meth:`sionna.sys.PHYAbstraction.new_bler_table`), merged over the shipped table in order
    (an MCS present in a file replaces the shipped entry's code block sizes and SINRs)."""
    import sionna.sys

    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation={interpolation!r} is unknown; use one of "
                         f"{INTERPOLATIONS}")
    missing = [f for f in bler_tables if not os.path.isfile(f)]
    if missing:
        raise ValueError(f"BLER table files {missing} do not exist; give files written by "
                         "sionna.sys.PHYAbstraction.new_bler_table")
    path = os.path.join(os.path.dirname(sionna.sys.__file__), "bler_tables", BLER_TABLE)
    interp = ProbitInterpolation() if interpolation == "probit" else None
    return _BlerOnly(interp_fun=interp, load_bler_tables_from=[path, *bler_tables],
                     precision="single")


class CodeBlockAbstraction:
    r"""Code-block and transport-block fates from per-symbol SINRs (see the module docstring).

    Parameters
    ----------
    seed : `None` (default) | int
        Seed of the NumPy generator that draws the fates.
    interpolation : "probit" (default) | "sionna"
        How the BLER tables are interpolated (see the module docstring).
    bler_tables : sequence of str (default: none)
        Further BLER table files merged over Sionna's (:func:`phy_abstraction`).

    Input
    -----
    sinr : [num_tb, num_symbols], np.float32
        Post-equalization SINR (linear) of every symbol of ``num_tb`` TBs of one layout.
    layout : TBLayout
        Their common layout (code blocks and their symbols).
    mcs_index : int
        MCS index of 38.214 Table 5.1.3.1-2.

    Output
    ------
    tb_ok : [num_tb], np.bool
        Whether every code block of the TB was received.
    cb_bler : [num_tb, num_cb], np.float32
        Predicted error probability of each code block.
    """

    def __init__(self, seed: int | None = None, interpolation: str = "probit",
                 bler_tables: Sequence[str] = ()) -> None:
        self._rng = np.random.default_rng(seed)
        self._phy = phy_abstraction(interpolation, tuple(str(f) for f in bler_tables))
        self._eesm = EESM(precision="single")
        self.interpolation = interpolation

    def cb_bler(self, sinr: np.ndarray, layout: TBLayout, mcs_index: int) -> np.ndarray:
        """Predicted BLER of every code block, [num_tb, num_cb] np.float32."""
        sinr = np.asarray(sinr, np.float32)
        n_tb = sinr.shape[0]
        spans = layout.cb_symbols
        width = max(b - a for a, b in spans)
        # Code blocks padded to a common length with SINR 0, which EESM counts as unused REs.
        blocks = np.zeros((n_tb, len(spans), width), np.float32)
        for r, (a, b) in enumerate(spans):
            blocks[:, r, : b - a] = sinr[:, a:b]
        n = n_tb * len(spans)
        # EESM's layout: [..., num_ofdm_symbols, num_subcarriers, num_ut, num_streams_per_ut]
        x = tf.constant(blocks.reshape(n, 1, width, 1, 1))
        mcs = tf.fill([n, 1], int(mcs_index))
        eff = self._eesm(x, mcs, mcs_table_index=MCS_TABLE_INDEX, per_stream=False)
        bler = self._phy.get_bler(mcs, MCS_TABLE_INDEX, MCS_CATEGORY,
                                  tf.fill([n, 1], layout.cb_size), eff).numpy()
        return bler.reshape(n_tb, len(spans)).astype(np.float32)

    def __call__(self, sinr: np.ndarray, layout: TBLayout,
                 mcs_index: int) -> tuple[np.ndarray, np.ndarray]:
        bler = self.cb_bler(sinr, layout, mcs_index)
        cb_ok = self._rng.random(bler.shape) >= bler
        return cb_ok.all(axis=1), bler


def sinr_from_noise(no_eff: np.ndarray) -> np.ndarray:
    """Post-equalization SINR of unit-power symbols, ``1 / max(no_eff, 1e-6)``."""
    return 1.0 / np.maximum(np.asarray(no_eff, np.float32), MIN_NOISE_VAR)
