"""Numbers of the AD9361 on a Pluto that the twin's rules and signal path look up, as tables.

Each table names its source. "The dump" is the ``iio_info`` XML of a real Rev.C Pluto
(AD9363A, firmware v0.32) in pyadi-iio's ``test/emu/devices/pluto.xml``; "the driver" is
ADI's Linux ``drivers/iio/adc/ad9361.c``; "the data sheet" is the AD9361 data sheet (Rev. F).
Values marked *ours* are modelling choices where no document gives a number. Pure data and
one-line lookups; no numpy, no sockets.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ADC_NOISE_LSB_RMS",
    "FULL_SCALE_INPUT_DBM_AT_0DB",
    "KT_DBM_PER_HZ",
    "RSSI_RANGE_DB",
    "RSSI_STEP_DB",
    "RX_BANDS",
    "RxBand",
    "rx_band",
    "rx_band_name",
    "rx_gain_range",
]


@dataclass(frozen=True)
class RxBand:
    """The receiver in one LO band: the driver's gain table and the data sheet's noise figure.

    Parameters
    ----------
    lo_max_hz : int
        Upper edge of the band (inclusive); the band starts above the previous one.
    gain_min_db, gain_max_db : int
        ``in_voltage0_hardwaregain`` range in 1 dB steps (the full gain table of the band).
    noise_figure_db : float
        Receiver noise figure at maximum gain.
    """

    lo_max_hz: int
    gain_min_db: int
    gain_max_db: int
    noise_figure_db: float


#: The driver switches gain tables at 1300 MHz and 4000 MHz (the default
#: ``gain_table_config`` covers 1300–4000 MHz). Gain ranges: the dump reads
#: ``hardwaregain_available`` = ``[-3 1 71]`` at 2.4 GHz; the 200–1300 MHz and 4–6 GHz full
#: tables span −1…73 and −10…62 dB. Noise figures: data sheet, RX specifications (2 dB at
#: 800 MHz, 3 dB at 2.4 GHz, 3.8 dB at 5.5 GHz).
RX_BANDS: tuple[RxBand, ...] = (
    RxBand(1_300_000_000, -1, 73, 2.0),
    RxBand(4_000_000_000, -3, 71, 3.0),
    RxBand(6_000_000_000, -10, 62, 3.8),
)


def rx_band(lo_hz: int) -> RxBand:
    """The band an RX LO frequency falls in (the last one beyond 6 GHz)."""
    for band in RX_BANDS:
        if lo_hz <= band.lo_max_hz:
            return band
    return RX_BANDS[-1]


def rx_gain_range(lo_hz: float) -> tuple[int, int]:
    """``hardwaregain_available`` [dB] at an RX LO: the gain table of its band (the LO is
    rounded to whole Hz as the driver stores it, so 1.3e9 falls in the lower band)."""
    band = rx_band(round(lo_hz))
    return band.gain_min_db, band.gain_max_db


def rx_band_name(band: RxBand) -> str:
    """The LO span of a band in words, for messages: ``"1.3-4 GHz"``."""
    i = RX_BANDS.index(band)
    if i == 0:
        return f"up to {band.lo_max_hz / 1e9:g} GHz"
    if i == len(RX_BANDS) - 1:
        return f"above {RX_BANDS[i - 1].lo_max_hz / 1e9:g} GHz"
    return f"{RX_BANDS[i - 1].lo_max_hz / 1e9:g}-{band.lo_max_hz / 1e9:g} GHz"


#: Thermal noise density at 290 K.
KT_DBM_PER_HZ = -174.0

#: Input power [dBm] that fills the ADC (0 dBFS) at 0 dB receive gain; at gain G it is this
#: minus G. *Ours*, calibrated on one point of the dump: with thermal noise only (18 MHz
#: RF bandwidth, NF 3 dB at 2.4 GHz, gain 71 dB) the dump's ``in_voltage0_rssi`` reads
#: 115.00 dB, which with RSSI = gain − received dBFS puts 0 dBFS at −54.45 dBm for 71 dB.
FULL_SCALE_INPUT_DBM_AT_0DB = 16.55

#: Noise the converter and the digital chain add whatever the gain, in ADC codes RMS per
#: I/Q rail (*ours*: one LSB, so that a quiet input dithers the 12-bit codes as a
#: real receiver does instead of reading exact zeros).
ADC_NOISE_LSB_RMS = 1.0

#: The driver reports RSSI in 0.25 dB steps from a 9-bit register (0…127.75 dB).
RSSI_STEP_DB = 0.25
RSSI_RANGE_DB = (0.0, 127.75)
