"""The ``[hil]`` configuration section: radio, RF settings, waveform, impairments, codec.

The OFDM numerology (FFT size, CP, occupied subcarriers, pilots) comes from ``[phy]``; the
sample rate defaults to ``phy.fft_size * phy.scs_hz`` (3.84 MHz for the default numerology),
so one HIL frame carries exactly the slots :class:`psfl.phy.UplinkLink` simulates. This module
imports no TensorFlow and no pyadi-iio.
"""

from __future__ import annotations

import dataclasses

from psfl.config import ConfigError, Section, option, register_section
from psfl.hil.pluto_rules import GAIN_MODES, rx_gain_error, rx_gain_help
from psfl.hil.radios.registry import RADIOS
from psfl.hil.snr import SNR_REFERENCES
from psfl.semantic.presets.registry import CODECS

__all__ = ["GAIN_MODES", "RADIOS", "SNR_REFERENCES", "HilConfig"]


def _radio_help() -> str:
    """``hil.radio``'s help: each registered radio and what it is."""
    names = [f"{e.name} ({e.cls.about})" for e in RADIOS.entries()]
    return "Radio: " + (", ".join(names[:-1]) + " or " if len(names) > 1 else "") + names[-1] + "."


def _which(**capability: bool) -> str:
    """The radios with ``capability``, for help texts: ``twin/emulated``."""
    return "/".join(RADIOS.names(**capability))


@dataclasses.dataclass(frozen=True)
class HilConfig(Section):
    """Hardware-in-the-loop settings. Every field is range-checked on construction; the
    Pluto's own limits (LO, sample rate, gains) are checked again by
    :func:`psfl.hil.radios.check_pluto_settings` against the selected chip range."""

    radio: str = option("twin", help=_radio_help(), choices=RADIOS)
    uri: str = option("ip:192.168.2.1", help="libiio URI of the Pluto (ip:ADDR, usb:B.D.I); "
                      "list devices with `iio_info -s`.")
    ad9364: bool = option(False, help="The Pluto runs the AD9364 firmware setting (LO 70 MHz"
                          "-6 GHz) instead of the stock AD9363 range (325 MHz-3.8 GHz).")
    lo_hz: float = option(2.44e9, help="RX and TX LO frequency [Hz]; pick a band you may "
                          "transmit in.", lo=0.0, lo_open=True)
    tx_lo_offset_hz: float = option(0.0, help="TX LO minus RX LO [Hz] (an intentional CFO for "
                                    "testing the receiver).", lo=-30e6, hi=30e6)
    sample_rate_hz: float = option(0.0, help="Baseband sample rate [Hz]; 0 means phy.fft_size"
                                   " * phy.scs_hz.", lo=0.0)
    rf_bandwidth_hz: float = option(0.0, help="Analog RF filter bandwidth [Hz]; 0 means the "
                                    "sample rate.", lo=0.0)
    tx_attenuation_db: float = option(10.0, help="TX attenuation [dB] (pyadi tx_hardwaregain ="
                                      " -value).", lo=0.0, hi=89.75)
    gain_mode: str = option("manual", help="RX gain control: " + ", ".join(GAIN_MODES) + ".",
                            choices=GAIN_MODES)
    rx_gain_db: float = option(40.0, help="RX gain [dB] in manual mode, within the AD9361's "
                               f"gain table for hil.lo_hz: {rx_gain_help()}.")
    rx_buffer_size: int = option(0, help="RX buffer size [samples]; 0 sizes it to hold one "
                                 "cyclic TX period plus one frame.", lo=0, hi=1 << 24)
    backoff_db: float = option(10.0, help="RMS of the TX waveform below the 2^14 DAC scale "
                               "pyadi expects [dB] (OFDM peaks need headroom).", lo=0.0,
                               hi=40.0)
    guard_samples: int = option(0, help="Zeros between frames; 0 means phy.fft_size.", lo=0,
                                hi=1 << 16)
    frames_per_buffer: int = option(8, help="Frames (images) per cyclic TX buffer.", lo=1,
                                    hi=1024)
    max_captures: int = option(3, help="RX captures per TX buffer before missing frames are "
                               "given up.", lo=1, hi=100)
    max_cfo_subcarriers: float = option(6.0, help="CFO search range of the receiver [subcarrier"
                                        " spacings].", lo=0.0, hi=20.0)
    detection_threshold: float = option(0.3, help="Schmidl-Cox timing-metric threshold "
                                        "(0..1).", lo=0.0, lo_open=True, hi=1.0)
    num_frames: int = option(16, help="Frames (= images) to send.", lo=1, hi=65535)
    snr_db: float = option(25.0, help=f"{_which(sets_own_snr=True)}: AWGN SNR [dB], per "
                           "resource element (what the receiver measures, as phy's snr_db) or "
                           "relative to the mean TX waveform power, as hil.snr_reference says.",
                           lo=-30.0, hi=80.0)
    snr_reference: str = option("re", help="What hil.snr_db is relative to: re (the power of "
                                "one resource element: the receiver measures snr_db) or "
                                "waveform (the mean power of the whole TX buffer, guard, CP and "
                                "empty subcarriers and REs included; 4.2 dB less than per RE "
                                "for the default numerology and k = 512, see psfl.hil.snr).",
                                choices=SNR_REFERENCES)
    cfo_subcarriers: float = option(0.0, help=f"{_which(applies_cfo_subcarriers=True)}: "
                                    "carrier offset [subcarrier spacings] (twin: applied as "
                                    "TX-RX LO difference).", lo=-20.0, hi=20.0)
    timing_offset: bool = option(True, help="twin/emulated: random start offset of the RX "
                                 "stream (and a fractional delay for emulated).")
    phase_noise_hz: float = option(2.0, help="emulated: Wiener phase-noise 3-dB linewidth "
                                   "[Hz].", lo=0.0, hi=1e5)
    iq_amplitude_db: float = option(0.2, help="emulated: IQ gain imbalance [dB].", lo=-3.0,
                                    hi=3.0)
    iq_phase_deg: float = option(1.0, help="emulated: IQ phase imbalance [deg].", lo=-20.0,
                                 hi=20.0)
    dc_offset: float = option(0.01, help="emulated: DC offset [fraction of ADC full scale].",
                              lo=0.0, hi=0.5)
    multipath: str = option("none", help="emulated and twin: multipath tap set: none, or "
                            "exp (exponential power-delay profile, see psfl.hil.radios).",
                            choices=("none", "exp"))
    delay_spread_s: float = option(300e-9, help="RMS delay spread of the 'exp' multipath "
                                   "[s].", lo=0.0, hi=5e-6)
    checkpoint: str = option("pretrained:csc", help="Trained codec (.keras) or pretrained:NAME "
                             "(shipped zoo; the default is the AWGN CSC); empty trains one here "
                             "for train_steps steps.")
    model: str = option("csc", help="Codec preset when training here.",
                        choices=CODECS)
    train_steps: int = option(200, help="Training budget [steps] when no checkpoint is given.",
                              lo=0)
    train_snr_db: tuple[float, ...] = option((10.0, 30.0), help="SNR range [dB] of training.")

    def validate(self) -> None:
        if len(self.train_snr_db) != 2 or self.train_snr_db[0] > self.train_snr_db[1]:
            raise ConfigError(f"hil.train_snr_db {list(self.train_snr_db)} must be [low, high] "
                              "with low <= high, e.g. [10, 30]")
        # No static bounds on the field: its range is the gain table of hil.lo_hz's band, so
        # the error names that range. Checked here, at load, so that a gain the chip lacks
        # fails before a codec trains or a radio opens.
        if (msg := rx_gain_error(self.rx_gain_db, self.lo_hz)) is not None:
            raise ConfigError(msg)


register_section("hil", HilConfig)
