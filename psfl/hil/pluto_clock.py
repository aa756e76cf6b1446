"""The AD9361's baseband clock chain, as ``rx_path_rates`` and ``tx_path_rates`` report it.

The driver (``ad9361_calculate_rf_clock_chain``) picks, for a baseband rate ``fs`` and the
FIR's decimation, the half-band decimation of the RX chain (HB3 × HB2 × HB1, from the
table :data:`CLK_DIVIDERS`) and a BBPLL that is the ADC clock times a power of two:

- ADC clock = fs × FIR × HB3 × HB2 × HB1, at most :data:`MAX_ADC_HZ` (the BBPLL range
  and k ≤ 6 keep it above 11.17 MHz);
- BBPLL = ADC × 2^k, the smallest k in 1…6 that lands in :data:`BBPLL_RANGE_HZ`; the PLL
  is fractional-N on the crystal (``xo_correction``) with modulus 2088960, so its rate is
  rounded the way the clock driver rounds it (983040002 Hz for 30.72 MS/s on a 40000159 Hz
  crystal, as the dump reads); the stages below it are printed as exact multiples of fs;
- the ``nominal`` rate governor prefers 8× oversampling (2·2·2) and ``highest_osr`` 12×;
- TX: when the RX HB3 decimates by 2 the DAC runs at ADC/2 and the TX HB3 is bypassed,
  otherwise the DAC runs at the ADC clock with the same HB3 (*ours*, consistent with the
  dump: DAC 122.88 MHz, T2 122.88, T1 61.44, TF 30.72 at 30.72 MS/s).

The lowest baseband rate is 25 MHz / 12 = 2083333 S/s with the FIR bypassed (the dump's
``sampling_frequency_available``), and that divided by the FIR's decimation with it
(520833 S/s with pyadi's ×4 FIR; pyadi uses the same 25000000 // 12 threshold). Pure Python.
"""

from __future__ import annotations

__all__ = [
    "MAX_ADC_HZ",
    "MIN_RATE_CLOCK_HZ",
    "BBPLL_MODULUS",
    "BBPLL_RANGE_HZ",
    "CLK_DIVIDERS",
    "MAX_BASEBAND_RATE",
    "bbpll_rate",
    "min_sample_rate",
    "path_rates",
]

#: (HB3, HB2, HB1) of the RX chain, from the most oversampled; index 1 is ``nominal``'s
#: first choice, index 0 ``highest_osr``'s.
CLK_DIVIDERS: tuple[tuple[int, int, int], ...] = (
    (3, 2, 2),
    (2, 2, 2),
    (3, 1, 2),
    (2, 2, 1),
    (3, 1, 1),
    (2, 1, 1),
    (1, 1, 1),
)
MAX_ADC_HZ = 640_000_000
MIN_RATE_CLOCK_HZ = 25_000_000  # lowest rate × 12 (the largest half-band decimation)
BBPLL_RANGE_HZ = (715_000_000, 1_430_000_000)
BBPLL_MODULUS = 2_088_960
MAX_BASEBAND_RATE = 61_440_000


def min_sample_rate(fir_decimation: int) -> int:
    """Lowest baseband rate: the lowest ADC clock over the largest decimation."""
    return MIN_RATE_CLOCK_HZ // (12 * max(fir_decimation, 1))


def bbpll_rate(target_hz: int, xo_hz: int) -> int:
    """The BBPLL rate the fractional-N synthesizer reaches for ``target_hz``."""
    n, rem = divmod(target_hz, xo_hz)
    frac = (rem * BBPLL_MODULUS + xo_hz // 2) // xo_hz
    return xo_hz * n + (frac * xo_hz + BBPLL_MODULUS // 2) // BBPLL_MODULUS


def _divider_order(governor: str) -> list[int]:
    start = 0 if governor == "highest_osr" else 1
    return [*range(start, len(CLK_DIVIDERS)), *range(start - 1, -1, -1)]


def path_rates(fs: int, fir: int, governor: str, xo_hz: int) -> tuple[str, str]:
    """``rx_path_rates`` and ``tx_path_rates`` as the driver prints them.

    Parameters
    ----------
    fs : int
        Baseband rate [S/s].
    fir : int
        FIR decimation/interpolation (1 when the FIR is bypassed).
    governor : "nominal" | "highest_osr"
        ``trx_rate_governor``.
    xo_hz : int
        Crystal frequency (``xo_correction``).

    Returns
    -------
    (rx, tx) : (str, str)
        ``"BBPLL:… ADC:… R2:… R1:… RF:… RXSAMP:…"`` and ``"BBPLL:… DAC:… T2:… T1:… TF:…
        TXSAMP:…"``.
    """
    fir = max(fir, 1)
    choice = None
    for i in _divider_order(governor):
        hb3, hb2, hb1 = CLK_DIVIDERS[i]
        adc = fs * fir * hb3 * hb2 * hb1
        ks = [k for k in range(1, 7) if BBPLL_RANGE_HZ[0] <= adc << k <= BBPLL_RANGE_HZ[1]]
        if adc <= MAX_ADC_HZ and ks:
            choice = (hb3, hb2, hb1, ks[0])
            break
    if choice is None:  # outside what the chip can clock; the write rules refuse such rates
        choice = (*CLK_DIVIDERS[1], 1)
    hb3, hb2, hb1, k = choice
    # Only the BBPLL shows the synthesizer's rounding: the stages below are printed as the
    # exact multiples of fs, so RXSAMP/TXSAMP equal the sampling_frequency read back.
    adc = fs * fir * hb3 * hb2 * hb1
    bbpll = bbpll_rate(adc << k, xo_hz)
    r2 = adc // hb3
    r1 = r2 // hb2
    rf = r1 // hb1
    dac, t_hb3 = (adc // 2, 1) if hb3 == 2 else (adc, hb3)
    t2 = dac // t_hb3
    t1 = t2 // hb2
    tf = t1 // hb1
    rx = f"BBPLL:{bbpll} ADC:{adc} R2:{r2} R1:{r1} RF:{rf} RXSAMP:{rf // fir}"
    tx = f"BBPLL:{bbpll} DAC:{dac} T2:{t2} T1:{t1} TF:{tf} TXSAMP:{tf // fir}"
    return rx, tx
