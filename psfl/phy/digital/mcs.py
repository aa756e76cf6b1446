"""MCS table and transport format of the digital baseline: what ``k`` channel uses carry.

* **MCS.** A modulation order ``m`` and LDPC code rate ``R`` from the 3GPP TS 38.214 MCS table 2
  (Table 5.1.3.1-2, up to 256-QAM, via :func:`sionna.phy.nr.utils.decode_mcs_index`). Indices 0
  and 1 are left out because Sionna's 5G LDPC encoder supports no rate below 1/5 (their rates
  are 0.117 and 0.188). Each entry carries the SNR threshold the selection rule compares with;
  :func:`mcs_table` makes the thresholds non-decreasing in the index
  (:func:`monotone_thresholds`). Tables measured per channel configuration are in
  :mod:`psfl.phy.digital.calibration`.
* **Bit budget.** ``k`` symbols carry ``k*m`` coded bits, of which ``floor(k*m*R)`` are
  information bits. Removing the 24 CRC bits and rounding down to whole bytes gives the payload
  of ``P = floor((floor(k*m*R) - 24) / 8)`` bytes (:func:`transport_format`).
* **Code blocks.** The payload plus CRC is split into ``C = ceil((8P + 24) / 8448)`` (rates
  below 1/3: ``/ 3824``) equal LDPC code blocks (zero filler bits up to equal size), each rate-matched to ``E`` bits (a multiple
  of ``m``); the fewer than ``C*m`` bits left over up to ``k*m`` are padding. The chain that
  codes this layout is :mod:`psfl.phy.digital.chain`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sionna.phy.nr.utils import decode_mcs_index

__all__ = [
    "CRC_LENGTH",
    "DEFAULT_THRESHOLDS_DB",
    "MCS",
    "MCS_INDICES",
    "TransportFormat",
    "mcs_table",
    "monotone_thresholds",
    "transport_format",
]

MCS_TABLE_INDEX = 2
"""3GPP TS 38.214 MCS table used (Table 5.1.3.1-2, up to 256-QAM)."""

MCS_INDICES = tuple(range(2, 28))
"""MCS indices of that table whose code rate Sionna's 5G LDPC encoder supports (R >= 1/5)."""

CRC_LENGTH = 24  # CRC24A, one check per transport block
MAX_CB_INFO_BITS = 8448  # largest 5G LDPC code block (base graph 1), 38.212 5.2.2
BG2_MAX_INFO_BITS = 3824  # largest block Sionna's encoder codes with base graph 2 at rate > 1/4

# Es/N0 (dB) at which the block error rate of the CRC24A + LDPC + QAM chain crosses 10 % on
# AWGN for k = 512 channel uses, 20 BP iterations, "app" demapping. Measured with
# ``calibrate_mcs_thresholds(k=512, target_bler=0.1, num_blocks=200, resolution_db=0.1)`` on
# 2026-11-25 (bisection to 0.1 dB). Longer blocks have slightly lower thresholds, shorter ones
# higher; the tables per channel configuration are in :mod:`psfl.phy.digital.calibration`.
DEFAULT_THRESHOLDS_DB: dict[int, float] = {
    2: -1.3, 3: 0.7, 4: 2.5, 5: 4.3, 6: 5.2, 7: 6.2, 8: 7.2, 9: 8.1, 10: 8.8,
    11: 9.7, 12: 10.7, 13: 11.8, 14: 12.7, 15: 13.7, 16: 14.6, 17: 15.5, 18: 16.5, 19: 17.6,
    20: 18.7, 21: 19.1, 22: 20.2, 23: 21.2, 24: 22.1, 25: 23.2, 26: 24.1, 27: 25.1,
}  # fmt: skip


def monotone_thresholds(thresholds_db: dict[int, float]) -> dict[int, float]:
    r"""Makes MCS thresholds non-decreasing in the MCS index by a running maximum.

    :math:`\tilde t_i = \max_{j \le i} t_j` over the indices present, in increasing order.
    Spectral efficiency grows with the index of 38.214 Table 5.1.3.1-2, so a higher MCS whose
    measured threshold lies below a lower one's is measurement noise (finite blocks, fading);
    raising it to the lower MCS's value keeps every MCS and guarantees that the selection rule
    ("the highest MCS whose threshold is at most the SNR") never picks a higher MCS at a lower
    SNR, nor one whose own measured threshold exceeds the SNR. Ours; the alternative, dropping
    the dominated lower MCS, would trust the noisier optimistic estimate.

    Input
    -----
    thresholds_db : dict
        MCS index -> threshold (dB), any order.

    Output
    ------
    : dict
        MCS index -> threshold (dB), in increasing index, non-decreasing values.
    """
    out: dict[int, float] = {}
    running = -math.inf
    for i in sorted(thresholds_db):
        running = max(running, float(thresholds_db[i]))
        out[int(i)] = running
    return out


@dataclass(frozen=True)
class MCS:
    """One modulation and coding scheme.

    Parameters
    ----------
    index : int
        Index in 3GPP TS 38.214 Table 5.1.3.1-2.
    bits_per_symbol : int
        QAM modulation order ``m`` (2, 4, 6 or 8).
    code_rate : float
        Target LDPC code rate ``R``.
    threshold_db : float
        SNR (dB) the selection rule compares with: the 10 %-BLER point on the channel the table
        was measured for (AWGN by default), made non-decreasing in the index.
    """

    index: int
    bits_per_symbol: int
    code_rate: float
    threshold_db: float

    @property
    def spectral_efficiency(self) -> float:
        """Information bits per channel use, ``m * R``."""
        return self.bits_per_symbol * self.code_rate


def mcs_table(thresholds_db: dict[int, float] | None = None) -> tuple[MCS, ...]:
    """Returns the MCS table of the digital baseline.

    Parameters
    ----------
    thresholds_db : `None` (default) | dict
        Threshold SNR per MCS index; missing indices use :data:`DEFAULT_THRESHOLDS_DB`.

    Output
    ------
    : tuple of :class:`MCS`
        One entry per index in :data:`MCS_INDICES`, in increasing spectral efficiency, with
        thresholds made non-decreasing by :func:`monotone_thresholds`.
    """
    th = dict(DEFAULT_THRESHOLDS_DB)
    if thresholds_db is not None:
        unknown = sorted(set(thresholds_db) - set(MCS_INDICES))
        if unknown:
            raise ValueError(
                f"thresholds_db has unknown MCS indices {unknown}; use indices "
                f"{MCS_INDICES[0]}..{MCS_INDICES[-1]}"
            )
        th.update({int(i): float(v) for i, v in thresholds_db.items()})
    th = monotone_thresholds(th)
    m, r = decode_mcs_index(list(MCS_INDICES), table_index=MCS_TABLE_INDEX, is_pusch=True)
    return tuple(
        MCS(i, int(mi), float(ri), th[i])
        for i, mi, ri in zip(MCS_INDICES, m.numpy(), r.numpy(), strict=True)
    )


@dataclass(frozen=True)
class TransportFormat:
    """Bit-level layout of one image's transport block over ``k`` channel uses.

    Parameters
    ----------
    k : int
        Complex channel uses (QAM symbols) per image.
    mcs : MCS
        Modulation and coding scheme.
    payload_bytes : int
        Source bytes carried, ``floor((floor(k*m*R) - 24) / 8)``.
    num_cb : int
        Number of LDPC code blocks ``C``.
    cb_info_bits : int
        Information bits per code block (CRC-protected payload plus filler).
    cb_coded_bits : int
        Coded bits per code block after rate matching, a multiple of ``m``.
    """

    k: int
    mcs: MCS
    payload_bytes: int
    num_cb: int
    cb_info_bits: int
    cb_coded_bits: int

    @property
    def payload_bits(self) -> int:
        """Source bits carried per image."""
        return 8 * self.payload_bytes

    @property
    def tb_bits(self) -> int:
        """Payload plus CRC bits."""
        return self.payload_bits + CRC_LENGTH

    @property
    def filler_bits(self) -> int:
        """Zero bits appended so that all code blocks have equal size."""
        return self.num_cb * self.cb_info_bits - self.tb_bits

    @property
    def coded_bits(self) -> int:
        """All coded bits per image, ``k*m``."""
        return self.k * self.mcs.bits_per_symbol

    @property
    def pad_bits(self) -> int:
        """Zero bits after the code blocks that complete ``k*m`` (fewer than ``C*m``)."""
        return self.coded_bits - self.num_cb * self.cb_coded_bits

    @property
    def code_rate(self) -> float:
        """Effective rate: payload bits per coded bit."""
        return self.payload_bits / self.coded_bits


def transport_format(k: int, mcs: MCS) -> TransportFormat:
    """Computes the transport block layout for ``k`` channel uses and an MCS.

    Parameters
    ----------
    k : int
        Complex channel uses per image.
    mcs : MCS
        Modulation and coding scheme.

    Output
    ------
    : TransportFormat
        The layout; raises `ValueError` if ``k`` is too small for this MCS.
    """
    m = mcs.bits_per_symbol
    n_bits = k * m
    payload_bytes = (math.floor(n_bits * mcs.code_rate) - CRC_LENGTH) // 8
    if payload_bytes < 1:
        raise ValueError(
            f"k={k} channel uses are too small for any payload at MCS {mcs.index} "
            f"({m} bits/symbol, rate {mcs.code_rate:.3f}): floor(k*m*R)={math.floor(n_bits * mcs.code_rate)} "
            f"bits do not cover the {CRC_LENGTH}-bit CRC plus one byte; increase k or use a higher MCS"
        )
    tb = 8 * payload_bytes + CRC_LENGTH
    # Sionna's 5G LDPC encoder takes base graph 1 (mother rate 1/3, no repetition) for blocks
    # above 3824 bits at rates above 1/4; below rate 1/3 blocks stay at or under 3824 bits so
    # that it takes base graph 2 (38.212 would take BG1 and repeat bits in rate matching).
    num_cb = math.ceil(tb / (MAX_CB_INFO_BITS if mcs.code_rate >= 1 / 3 else BG2_MAX_INFO_BITS))
    cb_info = math.ceil(tb / num_cb)
    cb_coded = (n_bits // (num_cb * m)) * m
    if cb_info < 12 or cb_coded <= 0 or cb_info / cb_coded > 0.95:
        raise ValueError(
            f"k={k} channel uses are too small for a 5G LDPC code block at MCS {mcs.index} "
            f"({cb_info} info bits into {cb_coded} coded bits); increase k"
        )
    return TransportFormat(k, mcs, payload_bytes, num_cb, cb_info, cb_coded)
