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
   **Beyond the table** (ours): Sionna's tables stop at an SINR of 25 dB and its interpolation
   holds the last value beyond, which for MCS 26 and 27 (still at 10-15 % BLER there) would
   cap their BLER at that value at any SINR. Above the last tabulated SINR :math:`s_e` the
   BLER is extrapolated log-linearly with the slope of the interpolated table over its last
   dB: :math:`\log_{10}\mathrm{BLER}(s) = \log_{10}\mathrm{BLER}(s_e) +
   (s - s_e)\,[\log_{10}\mathrm{BLER}(s_e) - \log_{10}\mathrm{BLER}(s_e - 1)]`.
   Code blocks larger than the largest tabulated size (2000 bits) read the 2000-bit row
   (Sionna's interpolation clamps), slightly pessimistic below 50 % BLER, where longer codes
   have steeper waterfalls.
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

import numpy as np
import tensorflow as tf
from sionna.sys import EESM, PHYAbstraction

from .segmentation import TBLayout

__all__ = ["BLER_TABLE", "MCS_CATEGORY", "MCS_TABLE_INDEX", "CodeBlockAbstraction",
           "phy_abstraction"]

MCS_TABLE_INDEX = 2  # 38.214 Table 5.1.3.1-2, psfl's MCS table (psfl.phy.digital.mcs)
MCS_CATEGORY = 1  # Sionna's category holding that table without transform precoding
BLER_TABLE = "PDSCH_table2.json"  # Sionna's file with category 1, table 2
MIN_NOISE_VAR = 1e-6  # same floor as the LDPC chain's demapper (SINR at most 60 dB)


class _BlerOnly(PHYAbstraction):
    """Sionna's PHY abstraction without the inverse (BLER -> SINR) table.

    That table serves Sionna's link adaptation, not this module, and costs 7-10 s of scipy
    ``griddata`` at construction (measured on 2 busy cores); the forward table this module
    reads is built as in Sionna."""

    def _interpolate_snr(self) -> None:
        return None


@functools.cache
def phy_abstraction() -> PHYAbstraction:
    """Sionna's :class:`~sionna.sys.PHYAbstraction` with the BLER table of psfl's MCS table,
    built once per process (its interpolation takes ~0.1 s)."""
    import sionna.sys

    path = os.path.join(os.path.dirname(sionna.sys.__file__), "bler_tables", BLER_TABLE)
    return _BlerOnly(load_bler_tables_from=[path], precision="single")


class CodeBlockAbstraction:
    r"""Code-block and transport-block fates from per-symbol SINRs (see the module docstring).

    Parameters
    ----------
    seed : `None` (default) | int
        Seed of the NumPy generator that draws the fates.

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

    def __init__(self, seed: int | None = None) -> None:
        self._rng = np.random.default_rng(seed)
        self._phy = phy_abstraction()
        self._eesm = EESM(precision="single")
        self._tail = _table_tail(self._phy)

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
        eff_db = 10 * np.log10(eff.numpy())
        s_end, log_end, slope = self._tail[int(mcs_index)]
        ci = int(self._phy.get_idx_from_grid(layout.cb_size, "cbs"))
        beyond = eff_db > s_end
        if np.any(beyond) and np.isfinite(log_end[ci]):
            ext = 10.0 ** (log_end[ci] + slope[ci] * (eff_db - s_end))
            bler = np.where(beyond, np.minimum(bler, ext), bler)
        return bler.reshape(n_tb, len(spans)).astype(np.float32)

    def __call__(self, sinr: np.ndarray, layout: TBLayout,
                 mcs_index: int) -> tuple[np.ndarray, np.ndarray]:
        bler = self.cb_bler(sinr, layout, mcs_index)
        cb_ok = self._rng.random(bler.shape) >= bler
        return cb_ok.all(axis=1), bler


def _table_tail(phy: PHYAbstraction) -> dict[int, tuple[float, np.ndarray, np.ndarray]]:
    """Per MCS: last tabulated SINR [dB], and per code-block-size row of the interpolated
    table log10 BLER there and its slope per dB over the last dB (see the module docstring)."""
    table = phy.bler_table["category"][MCS_CATEGORY]["index"][MCS_TABLE_INDEX]["MCS"]
    interp = phy.bler_table_interp.numpy()[MCS_CATEGORY, MCS_TABLE_INDEX - 1]
    lo, _, step = phy.snr_db_interp_min_max_delta
    tail = {}
    for mcs, entry in table.items():
        s_end = float(entry["SNR_db"][-1])
        i = int(round((s_end - lo) / step))
        j = i - int(round(1.0 / step))
        with np.errstate(divide="ignore", invalid="ignore"):
            log_end = np.log10(interp[mcs, :, i])
            slope = log_end - np.log10(interp[mcs, :, j])
        slope = np.where(np.isfinite(slope), np.minimum(slope, 0.0), 0.0)
        tail[int(mcs)] = (s_end, log_end, slope)
    return tail


def sinr_from_noise(no_eff: np.ndarray) -> np.ndarray:
    """Post-equalization SINR of unit-power symbols, ``1 / max(no_eff, 1e-6)``."""
    return 1.0 / np.maximum(np.asarray(no_eff, np.float32), MIN_NOISE_VAR)
