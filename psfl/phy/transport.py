"""Transport blocks of the digital baseline: MCS table, bit budget, CRC + 5G LDPC + QAM chain.

* **MCS.** A modulation order ``m`` and LDPC code rate ``R`` from the 3GPP TS 38.214 MCS table 2
  (Table 5.1.3.1-2, up to 256-QAM, via :func:`sionna.phy.nr.utils.decode_mcs_index`). Indices 0
  and 1 are left out because Sionna's 5G LDPC encoder supports no rate below 1/5 (their rates
  are 0.117 and 0.188). Each entry carries the SNR threshold the selection rule compares with;
  :func:`mcs_table` makes the thresholds non-decreasing in the index
  (:func:`psfl.phy.mcs_tables.monotone_thresholds`).
* **Bit budget.** ``k`` symbols carry ``k*m`` coded bits, of which ``floor(k*m*R)`` are
  information bits. Removing the 24 CRC bits and rounding down to whole bytes gives the payload
  of ``P = floor((floor(k*m*R) - 24) / 8)`` bytes (:func:`transport_format`).
* **Channel coding.** The payload gets a CRC24A (one check for the whole transport block), is
  split into ``C = ceil((8P + 24) / 8448)`` equal LDPC code blocks (zero filler bits up to
  equal size), each 5G-NR LDPC coded with rate matching to ``E`` bits (a multiple of ``m``;
  Sionna :class:`~sionna.phy.fec.ldpc.LDPC5GEncoder` with the 38.212 output interleaver). The
  fewer than ``C*m`` bits left over up to ``k*m`` are filled with zeros. All coded bits are
  scrambled with the 38.211 Gold sequence (so the QAM symbols have unit average power whatever
  the payload) and mapped to ``k`` QAM symbols.
* **Receiver.** "app" demapping with the per-symbol noise variance the link returns,
  descrambling, 5G LDPC belief propagation (boxplus-phi, 20 iterations, flooding), CRC check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import tensorflow as tf
from sionna.phy.fec.crc import CRCDecoder, CRCEncoder
from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder
from sionna.phy.mapping import Demapper, Mapper
from sionna.phy.nr.utils import decode_mcs_index, generate_prng_seq

__all__ = [
    "CRC_LENGTH",
    "DEFAULT_THRESHOLDS_DB",
    "MCS",
    "MCS_INDICES",
    "TransportChain",
    "TransportFormat",
    "mcs_table",
    "monotone_thresholds",
    "transport_format",
]

MCS_TABLE_INDEX = 2
"""3GPP TS 38.214 MCS table used (Table 5.1.3.1-2, up to 256-QAM)."""

MCS_INDICES = tuple(range(2, 28))
"""MCS indices of that table whose code rate Sionna's 5G LDPC encoder supports (R >= 1/5)."""

CRC_POLY = "CRC24A"
CRC_LENGTH = 24
MAX_CB_INFO_BITS = 8448  # largest 5G LDPC code block (base graph 1), 38.212 5.2.2
SCRAMBLING_C_INIT = 0x5F5F  # fixed c_init of the 38.211 Gold sequence; any agreed value works
MIN_NOISE_VAR = 1e-6  # floor on the link's noise variance so that LLRs stay finite (~60 dB)

# Es/N0 (dB) at which the block error rate of the CRC24A + LDPC + QAM chain crosses 10 % on
# AWGN for k = 512 channel uses, 20 BP iterations, "app" demapping. Measured with
# ``calibrate_mcs_thresholds(k=512, target_bler=0.1, num_blocks=200, resolution_db=0.1)`` on
# 2026-11-25 (bisection to 0.1 dB). Longer blocks have slightly lower thresholds, shorter ones
# higher; the tables per channel configuration are in :mod:`psfl.phy.mcs_tables`.
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
    num_cb = math.ceil(tb / MAX_CB_INFO_BITS)
    cb_info = math.ceil(tb / num_cb)
    cb_coded = (n_bits // (num_cb * m)) * m
    if cb_info < 12 or cb_coded <= 0 or cb_info / cb_coded > 0.95:
        raise ValueError(
            f"k={k} channel uses are too small for a 5G LDPC code block at MCS {mcs.index} "
            f"({cb_info} info bits into {cb_coded} coded bits); increase k"
        )
    return TransportFormat(k, mcs, payload_bytes, num_cb, cb_info, cb_coded)


class TransportChain:
    # pylint: disable=line-too-long
    r"""CRC24A + 5G LDPC + scrambling + QAM for one :class:`TransportFormat`, batched in TF.

    Parameters
    ----------
    fmt : TransportFormat
        Layout (``k``, MCS, code blocks).
    num_iter : int (default 20)
        LDPC belief-propagation iterations.
    mode : "graph" (default) | "xla" | "eager"
        Run the encoder and decoder as ``tf.function``, ``tf.function(jit_compile=True)`` or
        eagerly.

    Input (:meth:`encode`)
    -----
    bits : [batch, payload_bits], tf.float32
        Payload bits (0/1).

    Output (:meth:`encode`)
    ------
    : [batch, k], tf.complex64
        Unit-average-power QAM symbols.

    Input (:meth:`decode`)
    -----
    y : [batch, k], tf.complex64
        Equalized received symbols.
    no : [batch, k], tf.float32
        Noise variance per symbol.

    Output (:meth:`decode`)
    ------
    bits_hat : [batch, payload_bits], tf.float32
        Decoded payload bits.
    crc_ok : [batch], tf.bool
        Whether the CRC24A of the transport block holds.
    """

    def __init__(self, fmt: TransportFormat, num_iter: int = 20, mode: str = "graph") -> None:
        if mode not in ("graph", "xla", "eager"):
            raise ValueError(f"mode={mode!r} is unknown; use 'graph', 'xla' or 'eager'")
        self.fmt = fmt
        m = fmt.mcs.bits_per_symbol
        self._crc_enc = CRCEncoder(CRC_POLY)
        self._crc_dec = CRCDecoder(self._crc_enc)
        self._ldpc_enc = LDPC5GEncoder(fmt.cb_info_bits, fmt.cb_coded_bits, num_bits_per_symbol=m)
        self._ldpc_dec = LDPC5GDecoder(self._ldpc_enc, num_iter=num_iter, hard_out=True)
        self._mapper = Mapper("qam", m)
        self._demapper = Demapper("app", "qam", m)
        scr = generate_prng_seq(fmt.coded_bits, SCRAMBLING_C_INIT).astype(np.float32)
        self._scr = tf.constant(scr)
        self._sign = tf.constant(1.0 - 2.0 * scr)
        if mode == "eager":
            self.encode, self.decode = self._encode, self._decode
        else:
            jit = mode == "xla"
            self.encode = tf.function(
                self._encode,
                jit_compile=jit,
                input_signature=[tf.TensorSpec([None, fmt.payload_bits], tf.float32)],
            )
            self.decode = tf.function(
                self._decode,
                jit_compile=jit,
                input_signature=[
                    tf.TensorSpec([None, fmt.k], tf.complex64),
                    tf.TensorSpec([None, fmt.k], tf.float32),
                ],
            )

    def _encode(self, bits: tf.Tensor) -> tf.Tensor:
        f = self.fmt
        batch = tf.shape(bits)[0]
        b = self._crc_enc(bits)
        b = tf.concat([b, tf.zeros([batch, f.filler_bits], tf.float32)], axis=-1)
        b = tf.reshape(b, [batch, f.num_cb, f.cb_info_bits])
        c = self._ldpc_enc(b)
        c = tf.reshape(c, [batch, f.num_cb * f.cb_coded_bits])
        c = tf.concat([c, tf.zeros([batch, f.pad_bits], tf.float32)], axis=-1)
        c = tf.math.floormod(c + self._scr, 2.0)
        return self._mapper(c)

    def _decode(self, y: tf.Tensor, no: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        f = self.fmt
        batch = tf.shape(y)[0]
        no = tf.maximum(no, MIN_NOISE_VAR)
        llr = self._demapper(y, no) * self._sign
        llr = llr[:, : f.num_cb * f.cb_coded_bits]
        llr = tf.reshape(llr, [batch, f.num_cb, f.cb_coded_bits])
        u = self._ldpc_dec(llr)
        u = tf.reshape(u, [batch, f.num_cb * f.cb_info_bits])[:, : f.tb_bits]
        bits, ok = self._crc_dec(u)
        return bits, ok[:, 0]
