r"""The TX core's DDS: two tones per I/Q rail, what the DAC sends when no buffer is pushed.

``cf-ad9361-dds-core-lpc`` carries, besides its DMA channels, four tone generators
``TX1_I_F1``, ``TX1_I_F2`` (``altvoltage0``/``1``, added into the I rail) and ``TX1_Q_F1``,
``TX1_Q_F2`` (``altvoltage2``/``3``, the Q rail). Each is a 16-bit phase accumulator
stepped by its increment every DAC sample and started at its phase offset:

.. math:: r_k(n) = s_k \sin\big(2\pi\,(\phi_k + n\,\Delta_k \bmod 2^{16}) / 2^{16}\big)

with scale :math:`s_k` (1.0 = DAC full scale, a sign-magnitude word in steps of 1/16384), so the default phases (I 90°, Q 0°) send
:math:`s\,e^{+j 2\pi f n / f_s}`, a tone above the LO, which is what pyadi's
``dds_single_tone`` relies on. The tones play while the DDS is enabled (``raw``) and no TX
buffer is open: opening one switches the DAC's data source to the DMA, closing it switches
back, as the core's data-select does. Needs only numpy.
"""

from __future__ import annotations

import numpy as np

from psfl.hil.pluto_model import TXDAC
from psfl.hil.pluto_rules import dds_scale
from psfl.hil.pluto_state import PlutoState

__all__ = ["TONES", "dds_block"]

#: Tone channel → rail (0: I, 1: Q), as the core names them (TX1_I_F1 … TX1_Q_F2).
TONES: dict[str, int] = {"altvoltage0": 0, "altvoltage1": 0, "altvoltage2": 1, "altvoltage3": 1}


def dds_block(state: PlutoState, t0: int, n: int) -> np.ndarray | None:
    """The DDS output for DAC samples ``t0 … t0+n−1``.

    Input
    -----
    state : PlutoState — tone registers (increment, phase word, scale) and the enable.

    Output
    ------
    x : [n], complex128 normalized to full scale, or ``None`` when the DDS is off or every
    scale is 0 (the DAC sends nothing).
    """
    if not state.dds_enabled:
        return None
    rails = np.zeros((2, n))
    idx = np.arange(t0, t0 + n, dtype=np.int64)
    silent = True
    for chn, rail in TONES.items():
        scope = f"out:{chn}"
        scale = dds_scale(int(state.get(TXDAC, scope, "scale")))
        if scale == 0.0:
            continue
        silent = False
        incr = int(state.get(TXDAC, scope, "frequency"))
        word = int(state.get(TXDAC, scope, "phase"))
        acc = (word + idx * incr) & 0xFFFF  # the 16-bit accumulator wraps exactly
        rails[rail] += scale * np.sin(2 * np.pi * acc / 65536.0)
    return None if silent else rails[0] + 1j * rails[1]
