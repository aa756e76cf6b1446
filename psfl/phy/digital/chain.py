r"""Channel coding of the digital baseline: CRC24A + 5G LDPC + scrambling + QAM, and back.

The pair of blocks mirrors Sionna's :class:`~sionna.phy.nr.TBEncoder` /
:class:`~sionna.phy.nr.TBDecoder` for one :class:`~psfl.phy.digital.mcs.TransportFormat`
(``k`` symbols, one MCS), batched in TF:

* **Transmitter** (:class:`TransportEncoder`). The payload gets a CRC24A (one check for the
  whole transport block), is split into ``C`` equal LDPC code blocks (zero filler bits up to
  equal size), each 5G-NR LDPC coded with rate matching to ``E`` bits (a multiple of ``m``;
  Sionna :class:`~sionna.phy.fec.ldpc.LDPC5GEncoder` with the 38.212 output interleaver). The
  fewer than ``C*m`` bits left over up to ``k*m`` are filled with zeros. All coded bits are
  scrambled with the 38.211 Gold sequence (so the QAM symbols have unit average power whatever
  the payload) and mapped to ``k`` QAM symbols.
* **Receiver** (:class:`TransportDecoder`). "app" demapping with the per-symbol noise variance
  the link returns (floored at :data:`MIN_NOISE_VAR`), descrambling, 5G LDPC belief propagation
  (boxplus-phi, 20 iterations, flooding), CRC check.

:class:`TransportChain` holds the pair and runs it eagerly, as ``tf.function`` or under XLA.
"""

from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf
from sionna.phy import Block
from sionna.phy.fec.crc import CRCDecoder, CRCEncoder
from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder
from sionna.phy.mapping import Demapper, Mapper
from sionna.phy.nr.utils import generate_prng_seq

from .mcs import TransportFormat

__all__ = ["MODES", "TransportChain", "TransportDecoder", "TransportEncoder"]

CRC_POLY = "CRC24A"
SCRAMBLING_C_INIT = 0x5F5F  # fixed c_init of the 38.211 Gold sequence; any agreed value works
MIN_NOISE_VAR = 1e-6  # floor on the link's noise variance so that LLRs stay finite (~60 dB)

MODES = ("graph", "xla", "eager")
"""How a :class:`TransportChain` runs: ``tf.function``, ``tf.function(jit_compile=True)``, eager."""


class TransportEncoder(Block):
    r"""Payload bits to ``k`` QAM symbols: CRC24A, LDPC code blocks, padding, scrambling, QAM.

    Parameters
    ----------
    fmt : TransportFormat
        Layout (``k``, MCS, code blocks).

    Input
    -----
    bits : [batch, payload_bits], tf.float32
        Payload bits (0/1).

    Output
    ------
    x : [batch, k], tf.complex64
        Unit-average-power QAM symbols.
    """

    def __init__(self, fmt: TransportFormat, **kwargs) -> None:
        super().__init__(**kwargs)
        self._fmt = fmt
        m = fmt.mcs.bits_per_symbol
        self._crc = CRCEncoder(CRC_POLY)
        self._ldpc = LDPC5GEncoder(fmt.cb_info_bits, fmt.cb_coded_bits, num_bits_per_symbol=m)
        self._mapper = Mapper("qam", m)
        scr = generate_prng_seq(fmt.coded_bits, SCRAMBLING_C_INIT).astype(np.float32)
        self._scrambling = tf.constant(scr)

    @property
    def fmt(self) -> TransportFormat:
        """The transport format coded."""
        return self._fmt

    @property
    def crc_encoder(self) -> CRCEncoder:
        """The CRC24A encoder (its decoder checks the same polynomial)."""
        return self._crc

    @property
    def ldpc_encoder(self) -> LDPC5GEncoder:
        """The 5G LDPC encoder of one code block."""
        return self._ldpc

    @property
    def scrambling_sequence(self) -> tf.Tensor:
        """The 38.211 Gold sequence, ``[k*m]`` tf.float32 of 0/1."""
        return self._scrambling

    def call(self, bits: tf.Tensor) -> tf.Tensor:
        f = self._fmt
        batch = tf.shape(bits)[0]
        b = self._crc(bits)
        b = tf.concat([b, tf.zeros([batch, f.filler_bits], tf.float32)], axis=-1)
        b = tf.reshape(b, [batch, f.num_cb, f.cb_info_bits])
        c = self._ldpc(b)
        c = tf.reshape(c, [batch, f.num_cb * f.cb_coded_bits])
        c = tf.concat([c, tf.zeros([batch, f.pad_bits], tf.float32)], axis=-1)
        c = tf.math.floormod(c + self._scrambling, 2.0)
        return self._mapper(c)


class TransportDecoder(Block):
    r"""``k`` equalized symbols to payload bits and the CRC result (inverse of the encoder).

    Parameters
    ----------
    encoder : TransportEncoder
        The encoder whose transport blocks are decoded.
    num_iter : int (default 20)
        LDPC belief-propagation iterations.

    Input
    -----
    y : [batch, k], tf.complex64
        Equalized received symbols.
    no : [batch, k], tf.float32
        Noise variance per symbol.

    Output
    ------
    bits_hat : [batch, payload_bits], tf.float32
        Decoded payload bits.
    crc_ok : [batch], tf.bool
        Whether the CRC24A of the transport block holds.
    """

    def __init__(self, encoder: TransportEncoder, num_iter: int = 20, **kwargs) -> None:
        super().__init__(**kwargs)
        self._fmt = encoder.fmt
        m = encoder.fmt.mcs.bits_per_symbol
        self._crc = CRCDecoder(encoder.crc_encoder)
        self._ldpc = LDPC5GDecoder(encoder.ldpc_encoder, num_iter=num_iter, hard_out=True)
        self._demapper = Demapper("app", "qam", m)
        self._sign = 1.0 - 2.0 * encoder.scrambling_sequence

    @property
    def fmt(self) -> TransportFormat:
        """The transport format decoded."""
        return self._fmt

    def call(self, y: tf.Tensor, no: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        f = self._fmt
        batch = tf.shape(y)[0]
        no = tf.maximum(no, MIN_NOISE_VAR)
        llr = self._demapper(y, no) * self._sign
        llr = llr[:, : f.num_cb * f.cb_coded_bits]
        llr = tf.reshape(llr, [batch, f.num_cb, f.cb_coded_bits])
        u = self._ldpc(llr)
        u = tf.reshape(u, [batch, f.num_cb * f.cb_info_bits])[:, : f.tb_bits]
        bits, ok = self._crc(u)
        return bits, ok[:, 0]


class TransportChain:
    r"""A :class:`TransportEncoder` and its :class:`TransportDecoder`, run in one mode.

    Parameters
    ----------
    fmt : TransportFormat
        Layout (``k``, MCS, code blocks).
    num_iter : int (default 20)
        LDPC belief-propagation iterations.
    mode : "graph" (default) | "xla" | "eager"
        Run the encoder and decoder as ``tf.function``, ``tf.function(jit_compile=True)`` or
        eagerly; the compiled forms accept any batch size.

    Input (:meth:`encode`)
    -----
    bits : [batch, payload_bits], tf.float32
        Payload bits (0/1).

    Output (:meth:`encode`)
    ------
    x : [batch, k], tf.complex64
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
        if mode not in MODES:
            raise ValueError(f"mode={mode!r} is unknown; use 'graph', 'xla' or 'eager'")
        self.fmt = fmt
        self.encoder = TransportEncoder(fmt)
        self.decoder = TransportDecoder(self.encoder, num_iter=num_iter)
        if mode == "eager":
            self.encode, self.decode = self.encoder, self.decoder
            return
        jit = mode == "xla"
        # Each chain traces once (fixed signature). TensorFlow counts traces per code object,
        # and every Block shares Block.__call__'s, so one chain per MCS read as "retracing"
        # and warned; a partial has no code object, so each chain is counted on its own.
        self.encode = tf.function(
            functools.partial(self.encoder.__call__),
            jit_compile=jit,
            input_signature=[tf.TensorSpec([None, fmt.payload_bits], tf.float32)],
        )
        self.decode = tf.function(
            functools.partial(self.decoder.__call__),
            jit_compile=jit,
            input_signature=[
                tf.TensorSpec([None, fmt.k], tf.complex64),
                tf.TensorSpec([None, fmt.k], tf.float32),
            ],
        )
