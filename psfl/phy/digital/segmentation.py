r"""Transport-block and code-block segmentation of a whole photo over OFDM slots (TS 38.212/214).

A photo's message of ``k`` QAM symbols goes through the link slot by slot:
:class:`~psfl.phy.link.UplinkLink` places symbol ``j`` in slot ``j // n_data``
(``n_data = link.num_data_per_slot``), the last slot partly filled. The digital baseline sends
**one transport block (TB) per slot**, as a 5G scheduler grants one TB per slot and UE; the TB
of slot ``i`` occupies symbols ``[i*n_data, min(k, (i+1)*n_data))``. For one slot of
``n_sym`` symbols and an MCS (modulation order :math:`Q_m`, target rate :math:`R`):

1. **Coded bits.** :math:`G = n_\mathrm{sym} Q_m` (one layer; psfl's grid has no other
   overhead, so the 156-RE-per-PRB cap of 38.214 never binds and is not applied).
2. **TB size** (38.214 §5.1.3.2, :func:`sionna.phy.nr.utils.calculate_tb_size`).
   :math:`N_\mathrm{info} = R\,G`. If :math:`N_\mathrm{info} \le 3824`:
   :math:`n = \max(3, \lfloor\log_2 N_\mathrm{info}\rfloor - 6)`,
   :math:`N'_\mathrm{info} = \max(24, 2^n\lfloor N_\mathrm{info}/2^n\rfloor)` and the TBS is
   the smallest entry of Table 5.1.3.2-1 that is :math:`\ge N'_\mathrm{info}`. Else
   :math:`n = \lfloor\log_2(N_\mathrm{info}-24)\rfloor - 5`,
   :math:`N'_\mathrm{info} = \max(3840, 2^n\,\mathrm{round}((N_\mathrm{info}-24)/2^n))`,
   :math:`C = \lceil (N'_\mathrm{info}+24)/3816\rceil` if :math:`R \le 1/4`, else
   :math:`C = \lceil (N'_\mathrm{info}+24)/8424\rceil` if :math:`N'_\mathrm{info} > 8424`,
   else 1, and :math:`\mathrm{TBS} = 8C\lceil (N'_\mathrm{info}+24)/(8C)\rceil - 24`.
3. **TB CRC** (38.212 §7.2.1): :math:`L_\mathrm{TB}` = 24 (CRC24A) if TBS > 3824, else 16
   (CRC16). :math:`B = \mathrm{TBS} + L_\mathrm{TB}`.
4. **Base graph** (38.212 §7.2.2): base graph 2 if TBS ≤ 292, or TBS ≤ 3824 and R ≤ 0.67, or
   R ≤ 0.25; else base graph 1. Its largest code block :math:`K_{cb}` = 8448 (BG1) or 3840
   (BG2).
5. **Code-block segmentation** (38.212 §5.2.2): if :math:`B \le K_{cb}`, one code block and
   no code-block CRC (:math:`L = 0`); else :math:`L = 24` (CRC24B per code block) and
   :math:`C = \lceil B/(K_{cb}-L)\rceil`. Each code block carries
   :math:`K' = B/C + L` bits (the TBS formula makes :math:`B` divisible by :math:`C`).
6. **Rate matching** (38.212 §5.4.2.1): with :math:`C` blocks and :math:`G/Q_m` symbols,
   the first :math:`C - ((G/Q_m) \bmod C)` blocks get
   :math:`E = Q_m\lfloor G/(Q_m C)\rfloor` coded bits, the others
   :math:`E = Q_m\lceil G/(Q_m C)\rceil`; code block ``r`` occupies the symbols
   ``[sum(E[:r]), sum(E[:r+1])) / Q_m`` of its slot.

Sizes 2–6 come from Sionna's ``calculate_tb_size``, which :class:`sionna.phy.nr.TBEncoder`
also calls, so the layout here is the one the coder uses. A slot whose symbols cannot carry a
valid LDPC-coded TB (:math:`K'` under 12 bits, or a code rate :math:`K'/E` above 0.95 or
below the mother code rate, 1/3 for BG1 and 1/5 for BG2: the limits of
:class:`sionna.phy.fec.ldpc.LDPC5GEncoder`, which does not repeat the circular buffer) carries
**no TB**: this happens only to
a short last slot, whose symbols are then sent as zeros (ours; a standard scheduler would not
grant them). A full slot that cannot carry a TB makes the MCS unusable for this grid: e.g.
MCS 2 (QPSK, R = 0.30) on slots of more than ~6400 data REs, where the TBS exceeds 3824 and
38.212 picks base graph 1, whose rate 1/3 Sionna cannot lower.

The photo's payload is the concatenation of all TBs: :attr:`Segmentation.payload_bytes`
``= sum(TBS) / 8`` (every TBS is a multiple of 8).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sionna.phy.nr.utils import calculate_tb_size

from .mcs import MCS

__all__ = ["Segmentation", "TBLayout", "base_graph", "segment", "tb_layout"]

LDPC_MIN_K = 12  # smallest 5G LDPC code block Sionna's encoder accepts
LDPC_MAX_RATE = 0.95  # largest code rate K'/E (38.212 5.4.2.1, Sionna's limit)
# Lowest rate K'/E per base graph that Sionna's encoder codes: it has no repetition of the
# circular buffer, which 38.212 would use below the mother code rate.
LDPC_MIN_RATE = {1: 1 / 3, 2: 1 / 5}


def base_graph(tb_size: int, code_rate: float) -> int:
    r"""LDPC base graph of a transport block (38.212 §7.2.2).

    Input
    -----
    tb_size : int
        Transport block size :math:`A` (bits, without CRC).
    code_rate : float
        Target code rate :math:`R` of the MCS.

    Output
    ------
    : int
        2 if :math:`A \le 292`, or :math:`A \le 3824` and :math:`R \le 0.67`, or
        :math:`R \le 0.25`; else 1.
    """
    if tb_size <= 292 or (tb_size <= 3824 and code_rate <= 0.67) or code_rate <= 0.25:
        return 2
    return 1


@dataclass(frozen=True)
class TBLayout:
    """Layout of the transport block of one slot.

    Parameters
    ----------
    slot : int
        Slot index ``i``.
    first_symbol : int
        Index of the slot's first symbol in the message, ``i * n_data``.
    num_symbols : int
        Symbols of the message in this slot (``n_data``, fewer in the last slot).
    num_coded_bits : int
        Coded bits :math:`G` of the TB (``num_symbols * m``; 0 if the slot carries no TB).
    tb_size : int
        Transport block size (information bits, without CRC; 0 if no TB).
    tb_crc_length : int
        16 (CRC16) or 24 (CRC24A); 0 if no TB.
    num_cb : int
        Number of code blocks :math:`C` (0 if no TB).
    cb_size : int
        Bits per code block :math:`K'` including its CRC24B (0 if no TB).
    cb_crc_length : int
        24 (CRC24B) if :math:`C > 1`, else 0.
    base_graph : int
        LDPC base graph, 1 or 2 (0 if no TB).
    cw_lengths : tuple of int
        Coded bits :math:`E_r` of each code block after rate matching (sum :math:`G`).
    """

    slot: int
    first_symbol: int
    num_symbols: int
    num_coded_bits: int
    tb_size: int
    tb_crc_length: int
    num_cb: int
    cb_size: int
    cb_crc_length: int
    base_graph: int
    cw_lengths: tuple[int, ...]

    @property
    def has_tb(self) -> bool:
        """Whether the slot carries a transport block."""
        return self.tb_size > 0

    @property
    def cb_symbols(self) -> tuple[tuple[int, int], ...]:
        """Symbol range ``[start, stop)`` of each code block within the slot."""
        m = self.num_coded_bits // self.num_symbols if self.has_tb else 1
        edges = np.concatenate([[0], np.cumsum(self.cw_lengths)]) // m
        return tuple((int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True))

    @property
    def shape_key(self) -> tuple[int, int]:
        """``(num_symbols, tb_size)``: slots with equal keys are coded identically."""
        return self.num_symbols, self.tb_size


@dataclass(frozen=True)
class Segmentation:
    """A message of ``k`` symbols cut into one transport block per slot.

    Parameters
    ----------
    k : int
        Symbols of the message.
    num_data_per_slot : int
        Data resource elements per slot, ``n_data``.
    mcs : MCS
        Modulation and coding scheme of every TB.
    tbs : tuple of :class:`TBLayout`
        One per slot, ``ceil(k / n_data)`` in all.
    """

    k: int
    num_data_per_slot: int
    mcs: MCS
    tbs: tuple[TBLayout, ...]

    @property
    def num_slots(self) -> int:
        """Slots the message spans, :math:`\\lceil k/n_\\mathrm{data}\\rceil`."""
        return len(self.tbs)

    @property
    def num_tbs(self) -> int:
        """Slots that carry a TB."""
        return sum(t.has_tb for t in self.tbs)

    @property
    def num_cbs(self) -> int:
        """Code blocks over all TBs."""
        return sum(t.num_cb for t in self.tbs)

    @property
    def payload_bits(self) -> int:
        """Information bits of all TBs, ``sum(TBS)``."""
        return sum(t.tb_size for t in self.tbs)

    @property
    def payload_bytes(self) -> int:
        """The photo's codestream budget in bytes, ``sum(TBS) // 8``."""
        return self.payload_bits // 8

    @property
    def coded_symbols(self) -> int:
        """Symbols that carry coded bits (``k`` minus a last slot without TB)."""
        return sum(t.num_symbols for t in self.tbs if t.has_tb)

    def payload_offsets(self) -> np.ndarray:
        """Start bit of each TB's share of the payload, [num_slots + 1] np.int64."""
        return np.concatenate([[0], np.cumsum([t.tb_size for t in self.tbs])]).astype(np.int64)


def tb_layout(slot: int, first_symbol: int, num_symbols: int, mcs: MCS) -> TBLayout:
    """Layout of the TB of one slot (see the module docstring); no TB if none fits.

    Input
    -----
    slot : int
        Slot index.
    first_symbol : int
        Index of the slot's first symbol in the message.
    num_symbols : int
        Symbols in the slot.
    mcs : MCS
        Modulation order and target rate.

    Output
    ------
    : TBLayout
    """
    m, r = mcs.bits_per_symbol, mcs.code_rate
    g = num_symbols * m
    empty = TBLayout(slot, first_symbol, num_symbols, 0, 0, 0, 0, 0, 0, 0, ())
    out = calculate_tb_size(modulation_order=m, target_coderate=r, num_coded_bits=g,
                            precision="double")
    tbs, cbs, ncb, tb_crc, cb_crc, cw = (np.asarray(v).reshape(-1) for v in out)
    tbs, cbs, ncb = int(tbs[0]), int(cbs[0]), int(ncb[0])
    cw_lengths = tuple(int(e) for e in cw[:ncb])
    bg = base_graph(tbs, r)
    rate = cbs / max(cw_lengths) if min(cw_lengths) > 0 else math.inf
    if cbs < LDPC_MIN_K or rate > LDPC_MAX_RATE or rate < LDPC_MIN_RATE[bg]:
        return empty
    return TBLayout(slot, first_symbol, num_symbols, g, tbs, int(tb_crc[0]), ncb, cbs,
                    int(cb_crc[0]), bg, cw_lengths)


def segment(k: int, num_data_per_slot: int, mcs: MCS) -> Segmentation:
    r"""Cuts a message of ``k`` symbols into one TB per slot (see the module docstring).

    Parameters
    ----------
    k : int
        Symbols of the message (the link's channel uses), ``k >= 1``.
    num_data_per_slot : int
        Data REs per slot, :attr:`psfl.phy.UplinkLink.num_data_per_slot`.
    mcs : MCS
        Modulation and coding scheme (:func:`psfl.phy.digital.mcs.mcs_table`).

    Output
    ------
    : :class:`Segmentation`
        Raises `ValueError` naming the fix if a full slot cannot carry a TB at this MCS or no
        slot carries one.
    """
    for name, v in (("k", k), ("num_data_per_slot", num_data_per_slot)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise ValueError(f"{name}={v!r} must be a positive integer number of symbols")
    k, nd = int(k), int(num_data_per_slot)
    num_slots = math.ceil(k / nd)
    # Only two slot sizes occur (full, last), so Sionna's TBS computation runs at most twice.
    cache: dict[int, TBLayout] = {}
    tbs = []
    for i in range(num_slots):
        n = min(k, (i + 1) * nd) - i * nd
        if n not in cache:
            cache[n] = tb_layout(0, 0, n, mcs)
        t = cache[n]
        tbs.append(TBLayout(i, i * nd, n, t.num_coded_bits, t.tb_size, t.tb_crc_length,
                            t.num_cb, t.cb_size, t.cb_crc_length, t.base_graph, t.cw_lengths))
    if num_slots > 1 and not tbs[0].has_tb:
        raise ValueError(
            f"a slot of {nd} data symbols cannot carry a 5G LDPC transport block at MCS "
            f"{mcs.index} ({mcs.bits_per_symbol} bits/symbol, rate {mcs.code_rate:.3f}); use "
            "another MCS or another slot size (phy.num_subcarriers)"
        )
    seg = Segmentation(k, nd, mcs, tuple(tbs))
    if seg.num_tbs == 0:
        raise ValueError(
            f"k={k} symbols are too few for a 5G LDPC transport block at MCS {mcs.index} "
            f"({mcs.bits_per_symbol} bits/symbol, rate {mcs.code_rate:.3f}); increase k (a "
            "larger photo or bandwidth ratio) or use another MCS"
        )
    return seg
