r"""Whole-photo digital baseline: one codestream per photo, one 5G transport block per slot.

The image-scale counterpart of :class:`~psfl.phy.digital.baseline.DigitalBaseline` (which sends
one stream per 32x32 patch in one transport block). For a photo sent as ``k`` channel uses (the
same ``k`` a semantic codec spends on it):

1. **MCS.** Fixed, or selected per photo by SNR: the highest usable MCS whose threshold (plus
   ``margin_db``) is at most the SNR (DigitalBaseline's rule; thresholds from
   :mod:`psfl.phy.digital.mcs` or :func:`psfl.phy.digital.calibration.thresholds_for`, made
   non-decreasing) **and** whose photo, all of its TBs, the PHY abstraction predicts delivered
   with probability at least ``delivery_target`` at that SNR on every symbol; the lowest usable
   MCS where none qualifies. Why the second condition (ours): the thresholds are 10 % BLER of
   one 512-symbol block, and a photo of a few dozen TBs sent at its threshold is lost almost
   surely (measured: 0 % of 768×512 photos delivered on AWGN at 10 dB without it); a real
   transmitter adapts to the block error rate of what it sends. On fading channels the
   shipped thresholds (measured under fading) usually decide, since the prediction at the mean
   SNR ignores the fades.
2. **Segmentation** (:func:`~psfl.phy.digital.segmentation.segment`): one TB per OFDM slot of
   the link, sizes per 38.214 §5.1.3.2, CRCs, code blocks and base graph per 38.212; the
   payload budget is the sum of all TB sizes.
3. **Source coding** (:mod:`psfl.phy.digital.source`): the whole photo as ONE codestream
   (JPEG, WebP, JPEG 2000 or AVIF) at the largest quality that fits the budget, half resolution
   where better; its bytes are cut in order over the slots' TBs.
4. **Channel coding** per TB with Sionna's :class:`~sionna.phy.nr.TBEncoder` (38.212: CRC16 or
   CRC24A per TB, code-block segmentation with CRC24B per code block when there are several,
   5G LDPC, rate matching with the bit interleaver, 38.211 PUSCH scrambling), then QAM; the TB
   of slot ``i`` fills symbols ``[i*n_data, min(k, (i+1)*n_data))``. A short last slot that
   cannot hold a TB is sent as zeros.
5. **Link.** All ``k`` symbols of a photo in one row of ``link(x, snr_db)``, so the link's
   per-slot channel draws (and their time correlation) hit the TBs.
6. **Receiver**, ``decoder``:

   * ``"ldpc"`` (full chain): "app" demapping with the link's per-symbol noise variance
     (floored at 1e-6), Sionna's :class:`~sionna.phy.nr.TBDecoder` (20 iterations of
     boxplus-phi belief propagation), CRC checks.
   * ``"abstraction"``: no decoding; each code block's fate is drawn from its per-symbol SINRs
     ``1/no_eff`` with Sionna's EESM and 5G BLER tables
     (:class:`~psfl.phy.digital.abstraction.CodeBlockAbstraction`); a TB whose code blocks all
     succeed is delivered with the transmitted bits.

**Loss rule**, ``loss`` (:mod:`.slices`). ``"photo"`` (default): a photo is received only if
**every** transport block passes its TB CRC (all code blocks, for the abstraction): one failed TB
loses the whole photo, which is replaced by the ``fallback`` colour (mid-grey by default),
because a JPEG/WebP/JPEG 2000/AVIF stream cut at an unknown place does not decode reliably.
``"slice"`` (JPEG): a restart marker after every MCU row, and a failed TB loses only the rows of
the restart intervals with a byte in it, interpolated between the received rows above and
below (ours, an ideal receiver).
``info["tb_ok"]`` still reports every slot's TB. The MCS rule is the same under both.

**Base graph.** Sionna's LDPC encoder picks the base graph from the code block's own rate
:math:`K'/E`; 38.212 §7.2.2 from the TB size and the MCS's target rate. They differ only at
the 0.67 edge (e.g. 300 data REs per slot, MCS 15), where the encoder is rebuilt with the
38.212 graph before its decoder is made.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from sionna.phy.fec.ldpc import LDPC5GEncoder
from sionna.phy.mapping import Demapper, Mapper
from sionna.phy.nr import TBDecoder, TBEncoder

from ..link import LinkFn
from ..quality import psnr
from ._shared import (
    MIN_PHOTO_SIDE,
    check_photos,
    check_snr,
    encode_all,
    fallback_colour,
    per_item,
    stand_in_symbols,
)
from .abstraction import MIN_NOISE_VAR, CodeBlockAbstraction, sinr_from_noise
from .chain import MODES
from .mcs import MCS, MCS_INDICES, mcs_table
from .segmentation import Segmentation, TBLayout, segment, tb_layout
from .slices import LOSS_RULES, Received
from .source import source_coder, source_encode, to_uint8

__all__ = ["DECODERS", "MIN_PHOTO_SIDE", "PhotoBaseline", "symbols_for"]

DECODERS = ("ldpc", "abstraction")  # receivers: the full LDPC chain, or the PHY abstraction


def symbols_for(height: int, width: int, bandwidth_ratio: float) -> int:
    """Channel uses ``k = (k/n) * 3HW`` of a photo; `ValueError` unless a whole number.

    Input
    -----
    height, width : int
        Photo size in pixels.
    bandwidth_ratio : float
        ``k/n``, channel uses per real source dimension (e.g. 1/6).

    Output
    ------
    : int
        ``k``.
    """
    n = 3 * int(height) * int(width)
    k = bandwidth_ratio * n
    if not k > 0 or abs(k - round(k)) > 1e-6 * max(1.0, k):
        raise ValueError(
            f"bandwidth ratio {bandwidth_ratio!r} of a {height}x{width} photo gives k = {k:g} "
            "channel uses, not a positive whole number; choose a ratio whose product with "
            f"3*H*W = {n} is an integer"
        )
    return int(round(k))


class _TBCoder:
    """Sionna's TBEncoder/TBDecoder and QAM for one layout, run in one mode.

    The decoder is built on first use: the abstraction never needs it."""

    def __init__(self, layout: TBLayout, mcs: MCS, num_iter: int, mode: str) -> None:
        m = mcs.bits_per_symbol
        # TBEncoder prints a note when its effective rate exceeds 948/1024 (MCS 27 at some
        # sizes, allowed by 38.214); keep that out of the user's terminal.
        with contextlib.redirect_stdout(io.StringIO()):
            enc = TBEncoder(layout.tb_size, layout.num_coded_bits, mcs.code_rate, m,
                            channel_type="PUSCH")
            ldpc = enc.ldpc_encoder
            if (1 if ldpc.n_ldpc // ldpc.z == 68 else 2) != layout.base_graph:
                # see the module docstring: rebuild with the 38.212 base graph
                enc._encoder = LDPC5GEncoder(ldpc.k, ldpc.n, num_bits_per_symbol=1,
                                             bg=f"bg{layout.base_graph}")
        if (enc.tb_size, enc.num_cbs) != (layout.tb_size, layout.num_cb):
            raise RuntimeError(f"Sionna's TBEncoder laid out {enc.tb_size} bits in {enc.num_cbs} "
                               f"code blocks, the segmentation {layout}")
        self.encoder = enc
        self.mapper = Mapper("qam", m)
        self._m, self._num_iter, self._mode, self._n = m, num_iter, mode, layout.num_symbols
        self._decode_fn = None
        # One eager call builds Sionna's blocks (the scrambler's Gold sequence is a Python
        # loop, which autograph would convert element by element: 3 s per layout traced).
        self._encode(tf.zeros([1, layout.tb_size]))
        self.encode = self._compile(self._encode, [tf.TensorSpec([None, layout.tb_size])])

    def _compile(self, fn: Any, signature: list[tf.TensorSpec]) -> Any:
        if self._mode == "eager":
            return fn
        # TensorFlow counts traces per code object, so one coder per layout read as
        # "retracing" and warned in the user's terminal; a partial has none (as in chain.py).
        return tf.function(functools.partial(fn), jit_compile=self._mode == "xla",
                           input_signature=signature)

    def decode(self, y: tf.Tensor, no: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """[n_tb, num_symbols] symbols and noise -> bits [n_tb, tb_size], TB CRC [n_tb]."""
        if self._decode_fn is None:
            self.decoder = TBDecoder(self.encoder, num_bp_iter=self._num_iter)
            self.demapper = Demapper("app", "qam", self._m)
            self._decode(tf.zeros([1, self._n], tf.complex64), tf.ones([1, self._n]))  # build
            self._decode_fn = self._compile(self._decode, [
                tf.TensorSpec([None, self._n], tf.complex64), tf.TensorSpec([None, self._n])])
        return self._decode_fn(y, no)

    def _encode(self, bits: tf.Tensor) -> tf.Tensor:
        """[n_tb, tb_size] bits -> [n_tb, num_symbols] QAM symbols."""
        return self.mapper(self.encoder(bits))

    def _decode(self, y: tf.Tensor, no: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        llr = self.demapper(y, tf.maximum(no, MIN_NOISE_VAR))
        return self.decoder(llr)


class PhotoBaseline:
    # pylint: disable=line-too-long
    r"""A whole photo as one codestream over one 5G transport block per OFDM slot.

    See the module docstring for the scheme, the loss rule and the two receivers.

    Parameters
    ----------
    num_data_per_slot : int
        Data REs per slot of the link, :attr:`psfl.phy.UplinkLink.num_data_per_slot`.
    mcs : `None` (default) | int
        Fixed MCS index (2..27 of 38.214 Table 5.1.3.1-2); `None` selects per photo by SNR.
    codec : "jpeg" (default) | "webp" | "jpeg2000" | "avif"
        Source coder (:mod:`psfl.phy.digital.source`).
    decoder : "ldpc" (default) | "abstraction"
        Full LDPC decoding, or Sionna's PHY abstraction (:mod:`.abstraction`).
    fallback : float | sequence of 3 floats (default 0.5)
        Grey level or RGB colour in [0, 1] shown when a photo is lost.
    margin_db : float (default 0.0)
        Added to every threshold in the MCS selection rule.
    thresholds_db : `None` (default) | dict
        Per-MCS thresholds (e.g. :func:`psfl.phy.digital.calibration.thresholds_for`).
    downscale : bool (default `True`)
        Allow half resolution where it gives the lower MSE or is all that fits.
    num_iter : int (default 20)
        LDPC belief-propagation iterations (``"ldpc"``).
    mode : "graph" (default) | "xla" | "eager"
        How the TF coding chain runs.
    seed : `None` (default) | int
        Seed of the abstraction's draws (``"abstraction"``).
    delivery_target : float in [0, 1) (default 0.9)
        Least predicted probability of delivering the whole photo for an MCS to be selected by
        SNR (0: the thresholds alone).
    abstraction : `None` (default) | CodeBlockAbstraction
        The abstraction ``"abstraction"`` uses (e.g. with finer BLER tables); default
        ``CodeBlockAbstraction(seed)``.
    loss : "photo" (default) | "slice"
        What a failed TB loses: the photo, or its JPEG restart intervals (:mod:`.slices`).

    Input (:meth:`transmit`)
    -----
    photos : [batch, height, width, 3] or [height, width, 3], float in [0, 1]
        Photos of one size (numpy or TF).
    link : callable
        ``link(x, snr_db) -> (y, no_eff)``, ``x`` [batch, k] tf.complex64 of unit average power,
        ``y`` [batch, k] tf.complex64 equalized, ``no_eff`` [batch, k] tf.float32 (or
        broadcastable), e.g. :class:`psfl.phy.UplinkLink`.
    snr_db : float | [batch]
        Link SNR (dB).
    k : int
        Channel uses per photo (:func:`symbols_for`).
    mcs_snr_db : `None` (default) | float | [batch]
        SNR the MCS is selected for (default ``snr_db``).

    Output (:meth:`transmit`)
    ------
    photos_hat : [batch, height, width, 3], np.float32
        Received photos (fallback where lost).
    info : dict
        [batch] np.ndarray: ``success`` (every TB received and the stream decoded),
        ``crc_ok`` (every TB received), ``source_fit``, ``decode_error``, ``undetected_error``
        (``"ldpc"`` only: CRCs passed although bits differ), ``mcs``, ``bits_per_symbol``,
        ``code_rate`` (payload bits per coded bit), ``payload_bits`` (sum of TB sizes),
        ``source_bits``, ``quality``, ``scale``, ``num_symbols`` (``k``), ``num_slots``,
        ``num_tbs``, ``num_cbs``, ``snr_db``, ``psnr``, ``slices_delivered`` (fraction of the
        restart intervals received; ``"photo"``: 1 or 0), ``num_slices``; [batch, num_slots]
        np.ndarray: ``tb_ok`` (`True` for a slot without TB), ``tb_bler`` (predicted TB error
        rate, ``"abstraction"`` only, NaN otherwise); ``decoder``, ``loss`` (str).
    """

    def __init__(
        self,
        num_data_per_slot: int,
        mcs: int | None = None,
        codec: str = "jpeg",
        decoder: str = "ldpc",
        fallback: float | Sequence[float] = 0.5,
        margin_db: float = 0.0,
        thresholds_db: dict[int, float] | None = None,
        downscale: bool = True,
        num_iter: int = 20,
        mode: str = "graph",
        seed: int | None = None,
        abstraction: CodeBlockAbstraction | None = None,
        delivery_target: float = 0.9,
        loss: str = "photo",
    ) -> None:
        nd = num_data_per_slot
        if isinstance(nd, bool) or not isinstance(nd, int | np.integer) or nd < 1:
            raise ValueError(f"num_data_per_slot={nd!r} must be a positive integer; use "
                             "link.num_data_per_slot of the psfl.phy.UplinkLink")
        self.num_data_per_slot = int(nd)
        if decoder not in DECODERS:
            raise ValueError(f"decoder={decoder!r} is unknown; use one of {DECODERS}")
        self.decoder = decoder
        if mode not in MODES:
            raise ValueError(f"mode={mode!r} is unknown; use 'graph', 'xla' or 'eager'")
        self.mode = mode
        if isinstance(num_iter, bool) or not isinstance(num_iter, int) or num_iter < 1:
            raise ValueError(f"num_iter={num_iter!r} must be a positive integer")
        self.num_iter = num_iter
        if not math.isfinite(margin_db):
            raise ValueError(f"margin_db={margin_db!r} must be a finite number of dB")
        self.margin_db = float(margin_db)
        if loss not in LOSS_RULES:
            raise ValueError(f"loss={loss!r} is unknown; use one of {tuple(LOSS_RULES)}")
        self.loss, self._loss = loss, LOSS_RULES[loss]()
        self._coder = self._loss.coder(source_coder(codec))  # JPEG with restart markers: slice
        self.codec = codec
        self.fallback = fallback_colour(fallback)
        self.downscale = bool(downscale)
        self._table = {m.index: m for m in mcs_table(thresholds_db)}
        if mcs is not None and mcs not in self._table:
            raise ValueError(
                f"mcs={mcs!r} is unknown; use an index {MCS_INDICES[0]}..{MCS_INDICES[-1]} of "
                "3GPP TS 38.214 Table 5.1.3.1-2 or None to select by SNR"
            )
        self.mcs = mcs
        if not 0.0 <= delivery_target < 1.0:
            raise ValueError(f"delivery_target={delivery_target!r} must be in [0, 1); 0 selects "
                             "the MCS by the thresholds alone")
        self.delivery_target = float(delivery_target)
        self._abstraction = None
        if decoder == "abstraction":
            self._abstraction = abstraction or CodeBlockAbstraction(seed)
        self._predictor = self._abstraction
        self._stand_in_rng = np.random.default_rng(seed)

    # -- layout and MCS ---------------------------------------------------------------------

    @functools.lru_cache(maxsize=256)  # noqa: B019 (a few k per instance, instance lives long)
    def segmentation(self, k: int, mcs: int) -> Segmentation:
        """The TB layout of ``k`` symbols at MCS index ``mcs`` (:func:`.segmentation.segment`)."""
        return segment(k, self.num_data_per_slot, self._table[mcs])

    @functools.lru_cache(maxsize=256)  # noqa: B019
    def usable_mcs(self, k: int) -> tuple[int, ...]:
        """MCS indices whose TBs can carry a photo of ``k`` symbols (at least the coder's
        minimum payload); raises `ValueError` naming the fix if there is none (or the fixed
        MCS is not among them)."""
        usable = []
        for i in self._table:
            try:
                seg = self.segmentation(k, i)
            except ValueError:
                continue
            if seg.payload_bytes >= self._coder.min_payload_bytes():
                usable.append(i)
        if not usable or (self.mcs is not None and self.mcs not in usable):
            which = "any MCS" if self.mcs is None else f"MCS {self.mcs}"
            raise ValueError(
                f"k={k} channel uses ({self.num_data_per_slot} per slot) are too few for "
                f"{which}: no 5G transport block holds the {self.codec} coder's minimum of "
                f"{self._coder.min_payload_bytes()} bytes; increase k (a larger photo or "
                "bandwidth ratio)" + ("" if self.mcs is None else " or select the MCS by SNR")
            )
        return tuple(sorted(usable))

    def select_mcs(self, k: int, snr_db: float | np.ndarray) -> np.ndarray:
        """MCS index per SNR for photos of ``k`` symbols.

        Input
        -----
        k : int
            Channel uses per photo.
        snr_db : float | [batch]
            Link SNR (dB).

        Output
        ------
        : [] or [batch], np.int64
            The fixed MCS if one was given, else the highest usable MCS whose threshold plus
            ``margin_db`` is at most ``snr_db`` and whose :meth:`predicted_delivery` is at least
            ``delivery_target`` (the lowest usable one where none is).
        """
        snr = check_snr(snr_db)
        usable = self.usable_mcs(k)
        if self.mcs is not None:
            return np.full(snr.shape, self.mcs, np.int64)
        th = np.asarray([self._table[i].threshold_db for i in usable]) + self.margin_db
        picked = [next((i for i, t in zip(usable[::-1], th[::-1], strict=True)
                        if t <= s and self.predicted_delivery(k, i, float(s))
                        >= self.delivery_target),
                       usable[0]) for s in snr.reshape(-1)]
        return np.asarray(picked, np.int64).reshape(snr.shape)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 (photos of a few sizes, a few SNRs)
    def predicted_delivery(self, k: int, mcs: int, snr_db: float) -> float:
        """Probability that every TB of a ``k``-symbol photo at MCS ``mcs`` is received when
        every symbol sees ``snr_db``: the product over its TBs and code blocks of ``1 - BLER``
        (:meth:`CodeBlockAbstraction.cb_bler`). 1 with ``delivery_target = 0``."""
        if self.delivery_target == 0.0:
            return 1.0
        if self._predictor is None:
            self._predictor = CodeBlockAbstraction(0)  # predictions only: no draws
        sinr = 10.0 ** (float(snr_db) / 10.0)
        p = 1.0
        for group in _groups(self.segmentation(k, mcs)):
            layout = group[0]
            bler = self._predictor.cb_bler(np.full((1, layout.num_symbols), sinr, np.float32),
                                           layout, mcs)
            p *= float(np.prod(1.0 - bler)) ** len(group)
        return p

    def _tb_coder(self, layout: TBLayout, mcs: int) -> _TBCoder:
        return _tb_coder(layout.num_symbols, layout.tb_size, self._table[mcs], self.num_iter,
                         self.mode)

    # -- source only ------------------------------------------------------------------------

    def source_roundtrip(self, photos: Any, k: int,
                         mcs: int | np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Source coding only, error-free, with the payload of ``k`` symbols at ``mcs``.

        Output: photos [batch, height, width, 3] np.float32 and ``info`` with ``quality``,
        ``scale``, ``source_bits``, ``source_fit``, ``payload_bits``, ``psnr`` per photo.
        """
        x = check_photos(photos)
        self.usable_mcs(k)
        mcs_arr = np.broadcast_to(np.asarray(mcs, np.int64), (len(x),))
        out = np.empty_like(x)
        info = {n: np.zeros(len(x), np.int64) for n in ("quality", "scale", "source_bits",
                                                        "payload_bits")}
        for i, (img, m) in enumerate(zip(to_uint8(x), mcs_arr, strict=True)):
            seg = self.segmentation(k, int(m))
            c = source_encode(img, self._coder, seg.payload_bytes, self.downscale)
            rec = self._coder.decode(c.payload, *img.shape[:2])
            out[i] = self.fallback if rec is None else rec.astype(np.float32) / 255.0
            info["quality"][i], info["scale"][i] = c.quality, c.scale
            info["source_bits"][i], info["payload_bits"][i] = 8 * c.source_bytes, seg.payload_bits
        info["source_fit"] = info["quality"] >= 0
        info["psnr"] = psnr(out, x)
        return out, info

    # -- end to end -------------------------------------------------------------------------

    def transmit(self, photos: Any, link: LinkFn, snr_db: float | np.ndarray, k: int,
                 mcs_snr_db: float | np.ndarray | None = None
                 ) -> tuple[np.ndarray, dict[str, Any]]:
        """Sends photos through ``link``; see the class docstring for inputs and outputs."""
        x = check_photos(photos)
        if not callable(link):
            raise ValueError("link must be callable as link(x, snr_db) -> (y, no_eff)")
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ValueError(f"k={k!r} must be a positive integer number of channel uses; see "
                             "psfl.phy.digital.symbols_for")
        k = int(k)
        batch, height, width, _ = x.shape
        snr = per_item(snr_db, batch, "snr_db", "photos")
        sel = snr if mcs_snr_db is None else per_item(mcs_snr_db, batch, "mcs_snr_db", "photos")
        mcs = self.select_mcs(k, sel)
        num_slots = math.ceil(k / self.num_data_per_slot)
        info = _empty_info(mcs, snr, k, num_slots, self.decoder, self.loss)
        u8 = to_uint8(x)
        out = np.empty_like(x)
        for m in np.unique(mcs):
            rows = np.flatnonzero(mcs == m)
            seg = self.segmentation(k, int(m))
            coded = encode_all(u8[rows], self._coder, seg.payload_bytes, self.downscale)
            for i, c in zip(rows, coded, strict=True):
                info["quality"][i], info["scale"][i] = c.quality, c.scale
                info["source_bits"][i] = 8 * c.source_bytes
                info["source_fit"][i] = c.quality >= 0
            payload = np.frombuffer(b"".join(c.payload for c in coded), np.uint8)
            bits = np.unpackbits(payload).reshape(len(rows), seg.payload_bits)
            bits_hat, tb_ok, tb_bler = self._send(seg, int(m), bits, link, snr[rows])
            info["tb_ok"][rows] = tb_ok
            info["tb_bler"][rows] = tb_bler
            ok = tb_ok.all(axis=1)
            info["crc_ok"][rows] = ok
            info["undetected_error"][rows] = ok & np.any(bits_hat != bits, axis=1)
            info["bits_per_symbol"][rows] = seg.mcs.bits_per_symbol
            info["code_rate"][rows] = seg.payload_bits / (k * seg.mcs.bits_per_symbol)
            info["payload_bits"][rows] = seg.payload_bits
            info["num_tbs"][rows], info["num_cbs"][rows] = seg.num_tbs, seg.num_cbs
            rx, offsets = np.packbits(bits_hat.astype(np.uint8), axis=1), seg.payload_offsets()
            for j, i in enumerate(rows):
                got = Received(coded[j].payload, rx[j].tobytes(), tb_ok[j], offsets)
                out[i] = self._loss.receive(self._coder, got, height, width, self.fallback, info, i)
        info["psnr"] = psnr(out, x)
        return out, info

    def _send(self, seg: Segmentation, mcs: int, bits: np.ndarray, link: LinkFn,
              snr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Payload bits through the TBs of ``seg`` and ``link`` (see :meth:`receive_payload`);
        under the abstraction random QAM points stand in for the LDPC codewords
        (:func:`~._shared.stand_in_symbols`)."""
        if self._abstraction is None:
            sym = self.encode_payload(seg, mcs, bits)
        else:
            idx = np.concatenate([_symbol_index(tbs).ravel() for tbs in _groups(seg)])
            sym = stand_in_symbols(self._stand_in_rng, len(bits), seg.k, idx, seg.mcs)
        y, no = link(tf.constant(sym), tf.constant(snr, tf.float32))
        y = tf.convert_to_tensor(y)
        if y.shape != sym.shape or y.dtype != tf.complex64:
            raise ValueError(
                f"link returned y of shape {y.shape} and dtype {y.dtype}; expected {sym.shape} "
                "complex64 (one equalized symbol per channel use, same order)")
        return self.receive_payload(seg, mcs, y, no, bits)

    def encode_payload(self, seg: Segmentation, mcs: int, bits: np.ndarray) -> np.ndarray:
        """The transmitter: payload bits to the ``k`` symbols of ``seg``'s TBs.

        Input
        -----
        seg : Segmentation
            Layout (:meth:`segmentation`).
        mcs : int
            Its MCS index.
        bits : [n, seg.payload_bits], 0/1
            Payload of ``n`` messages.

        Output
        ------
        : [n, seg.k], np.complex64
            QAM symbols of every TB at its slot's positions; zeros in a slot without TB.
        """
        n = bits.shape[0]
        offsets = seg.payload_offsets()
        sym = np.zeros((n, seg.k), np.complex64)
        for tbs in _groups(seg):
            coder = self._tb_coder(tbs[0], mcs)
            b = np.stack([bits[:, offsets[t.slot]:offsets[t.slot + 1]] for t in tbs], axis=1)
            s = coder.encode(tf.constant(b.reshape(-1, tbs[0].tb_size), tf.float32)).numpy()
            sym[:, _symbol_index(tbs)] = s.reshape(n, len(tbs), -1)
        return sym

    def receive_payload(self, seg: Segmentation, mcs: int, y: Any, no_eff: Any,
                        bits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The receiver of ``self.decoder``: every TB of ``seg`` from the link's output.

        Input
        -----
        seg : Segmentation
            Layout.
        mcs : int
            Its MCS index.
        y : [n, seg.k], complex64
            Equalized symbols.
        no_eff : [n, seg.k] or broadcastable, float32
            Their noise variance.
        bits : [n, seg.payload_bits], 0/1
            The transmitted payload: the abstraction delivers it where TBs succeed (ignored by
            ``"ldpc"`` except for its dtype).

        Output
        ------
        bits_hat : [n, seg.payload_bits], dtype of ``bits``
            Received payload (``"ldpc"``: the decoder's hard decisions, failed TBs included).
        tb_ok : [n, seg.num_slots], np.bool
            TB CRC passed (``"abstraction"``: every code block drawn successful); `True` for a
            slot without TB.
        tb_bler : [n, seg.num_slots], np.float32
            Predicted TB error probability (``"abstraction"``), NaN for ``"ldpc"`` and for a
            slot without TB.
        """
        y = np.asarray(y)
        n = y.shape[0]
        no = np.broadcast_to(np.asarray(no_eff, np.float32), y.shape)
        offsets = seg.payload_offsets()
        bits_hat = bits.copy() if self.decoder == "abstraction" else np.zeros_like(bits)
        tb_ok = np.ones((n, seg.num_slots), bool)
        tb_bler = np.full((n, seg.num_slots), np.nan, np.float32)
        for tbs in _groups(seg):
            idx = _symbol_index(tbs)
            slots = [t.slot for t in tbs]
            if self._abstraction is not None:
                sinr = sinr_from_noise(no[:, idx]).reshape(n * len(tbs), -1)
                ok, cb_bler = self._abstraction(sinr, tbs[0], mcs)
                tb_ok[:, slots] = ok.reshape(n, len(tbs))
                tb_bler[:, slots] = (1 - np.prod(1 - cb_bler, axis=1)).reshape(n, len(tbs))
                continue
            coder = self._tb_coder(tbs[0], mcs)
            u, ok = coder.decode(tf.constant(y[:, idx].reshape(n * len(tbs), -1)),
                                 tf.constant(no[:, idx].reshape(n * len(tbs), -1)))
            u = u.numpy().reshape(n, len(tbs), -1).round().astype(bits.dtype)
            tb_ok[:, slots] = ok.numpy().reshape(n, len(tbs))
            for j, t in enumerate(tbs):
                bits_hat[:, offsets[t.slot]:offsets[t.slot + 1]] = u[:, j]
        return bits_hat, tb_ok, tb_bler

@functools.lru_cache(maxsize=64)
def _tb_coder(num_symbols: int, tb_size: int, mcs: MCS, num_iter: int, mode: str) -> _TBCoder:
    """The coder of one layout, shared by every PhotoBaseline of the process (building and
    tracing one takes seconds; a sweep meets the same few layouts again and again)."""
    layout = tb_layout(0, 0, num_symbols, mcs)
    if layout.tb_size != tb_size:
        raise RuntimeError(f"layout of {num_symbols} symbols at MCS {mcs.index} changed")
    return _TBCoder(layout, mcs, num_iter, mode)


def _groups(seg: Segmentation) -> list[list[TBLayout]]:
    """The TBs of ``seg`` grouped by layout (full slots, a different last slot): each group is
    coded in one batch."""
    groups: dict[tuple[int, int], list[TBLayout]] = {}
    for t in seg.tbs:
        if t.has_tb:
            groups.setdefault(t.shape_key, []).append(t)
    return list(groups.values())


def _symbol_index(tbs: list[TBLayout]) -> np.ndarray:
    """Message positions of the symbols of equally laid-out slots, [len(tbs), num_symbols]."""
    return np.asarray([t.first_symbol for t in tbs])[:, None] + np.arange(tbs[0].num_symbols)


def _empty_info(mcs: np.ndarray, snr: np.ndarray, k: int, num_slots: int, decoder: str,
                loss: str) -> dict[str, Any]:
    """The ``info`` of :meth:`PhotoBaseline.transmit` before anything is sent."""
    batch = len(mcs)
    zeros = functools.partial(np.zeros, batch)
    return {
        "success": zeros(bool), "crc_ok": zeros(bool), "source_fit": zeros(bool),
        "decode_error": zeros(bool), "undetected_error": zeros(bool),
        "mcs": mcs.astype(np.int64), "bits_per_symbol": zeros(np.int64),
        "code_rate": zeros(np.float32), "payload_bits": zeros(np.int64),
        "source_bits": zeros(np.int64), "quality": np.full(batch, -1, np.int64),
        "scale": zeros(np.int64), "num_symbols": np.full(batch, k, np.int64),
        "num_slots": np.full(batch, num_slots, np.int64), "num_tbs": zeros(np.int64),
        "num_cbs": zeros(np.int64), "snr_db": snr.astype(np.float32),
        "tb_ok": np.ones((batch, num_slots), bool),
        "tb_bler": np.full((batch, num_slots), np.nan, np.float32), "decoder": decoder,
        "slices_delivered": zeros(np.float32), "num_slices": zeros(np.int64), "loss": loss,
    }
