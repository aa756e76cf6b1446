"""Configuration of the physical layer: the ``[phy]`` section.

The defaults give a small, fast link: 72 occupied subcarriers (6 resource blocks) at 30 kHz
spacing on a 128-point FFT, one 14-symbol slot with pilots on OFDM symbols 2 and 11, AWGN,
perfect CSI. The benchmark uses the 20 MHz numerology instead (612 subcarriers, FFT 1024,
CP 72, TDL-C, LS estimation).
"""

from __future__ import annotations

import dataclasses

from psfl.config import ConfigError, Section, option, register_section
from psfl.phy.channels.registry import CHANNELS as CHANNEL_REGISTRY

__all__ = ["CHANNELS", "CIR_CHANNELS", "CSI_MODES", "DOMAINS", "EQUALIZERS", "PATHLOSS_CHANNELS",
           "SLOT_TIMINGS", "PhyConfig"]

#: Valid channel names, in the order they are documented: the registry's
#: (:data:`psfl.phy.channels.registry.CHANNELS`, one module per channel family).
CHANNELS: tuple[str, ...] = CHANNEL_REGISTRY.names()

#: Channels whose gain includes path loss and shadowing from the link budget.
PATHLOSS_CHANNELS: tuple[str, ...] = CHANNEL_REGISTRY.names(has_pathloss=True)

#: Channels with a channel impulse response (multipath delays and Doppler), the ones the
#: time-domain link can simulate; awgn and rayleigh are flat and constant over a slot.
CIR_CHANNELS: tuple[str, ...] = CHANNEL_REGISTRY.names(has_cir=True)

#: Where the link applies the channel: per resource element (frequency) or to the OFDM
#: waveform (time: OFDM modulator, multipath convolution, CP removal, FFT).
DOMAINS: tuple[str, ...] = ("frequency", "time")

#: How the slots of one message (a row of the link) fade: as independent realizations, or as
#: consecutive slots of one realization (``phy.slot_timing``).
SLOT_TIMINGS: tuple[str, ...] = ("independent", "consecutive")

#: Channel state information at the receiver.
CSI_MODES: tuple[str, ...] = ("perfect", "ls")

#: Receive combining / equalization for the single uplink stream: the keys of
#: :data:`psfl.phy.estimation.COMBINERS` (a test keeps the two equal; this module stays free of
#: TensorFlow). Zero forcing is not offered: for one stream it is ``mrc``.
EQUALIZERS: tuple[str, ...] = ("lmmse", "mrc")


@dataclasses.dataclass(frozen=True)
class PhyConfig(Section):
    """Numerology, channel, CSI and link budget of the MU→BS uplink.

    Every field is validated on construction (range, choices and cross-field rules), so a
    bad value raises :class:`~psfl.config.ConfigError` (a ``ValueError``) naming the field
    and what is allowed.
    """

    channel: str = option(
        "awgn",
        help="Channel model: " + ", ".join(CHANNELS) + ".",
        choices=CHANNEL_REGISTRY,
    )
    domain: str = option(
        "frequency",
        help="Link simulation domain: frequency (per resource element, exact while the delay "
        "spread fits in the CP and the Doppler is small against the SCS) or time (OFDM "
        "waveform through the multipath channel: models ISI beyond the CP and Doppler ICI; "
        "needs a channel with an impulse response).",
        choices=DOMAINS,
    )
    slot_timing: str = option(
        "independent",
        help="The slots of one message (a photo, a model upload): independent realizations (as "
        "if far apart in time), or consecutive slots of one realization that evolves with the "
        "Doppler of speed_mps, so that fades last over many slots (channels with an impulse "
        "response, frequency domain).",
        choices=SLOT_TIMINGS,
    )
    csi: str = option(
        "perfect",
        help="Receiver CSI: perfect, or LS estimation at the pilots with interpolation.",
        choices=CSI_MODES,
    )
    equalizer: str = option(
        "lmmse",
        help="Combining/equalization: lmmse (= MMSE combining) or mrc (matched filter; for one "
        "stream also zero forcing).",
        choices=EQUALIZERS,
    )
    snr_db_min: float = option(0.0, help="Lower end of the training/evaluation SNR range [dB].",
                               lo=-30.0, hi=60.0)
    snr_db_max: float = option(20.0, help="Upper end of the training/evaluation SNR range [dB].",
                               lo=-30.0, hi=60.0)
    carrier_hz: float = option(3.5e9, help="Carrier frequency [Hz].", lo=0.5e9, hi=100e9)
    scs_hz: float = option(30e3, help="Subcarrier spacing [Hz].",
                           choices=(15e3, 30e3, 60e3, 120e3, 240e3))
    num_subcarriers: int = option(
        72, help="Occupied (simulated) subcarriers; 12 per resource block.", lo=1, hi=3300
    )
    fft_size: int = option(128, help="FFT size; sets symbol duration with the CP.", lo=1,
                           hi=8192)
    cp_length: int = option(9, help="Cyclic prefix length in samples at fft_size * scs_hz.",
                            lo=0)
    num_ofdm_symbols: int = option(14, help="OFDM symbols per slot.", lo=1, hi=28)
    pilot_pattern: str = option(
        "kronecker",
        help="kronecker: pilots on every subcarrier of the pilot OFDM symbols; empty: no "
        "pilots (perfect CSI only).",
        choices=("kronecker", "empty"),
    )
    pilot_ofdm_symbol_indices: tuple[int, ...] = option(
        (2, 11), help="OFDM symbols (0-based) carrying pilots.", lo=0
    )
    ls_freq_window: int = option(
        3, help="LS estimation: pilots averaged over this many adjacent subcarriers (odd).",
        lo=1, hi=63,
    )
    num_rx_ant: int = option(1, help="BS receive antennas (the MU has one).", lo=1, hi=64)
    speed_mps: float = option(0.0, help="MU speed [m/s]; sets the Doppler spread.", lo=0.0,
                              hi=150.0)
    delay_spread_s: float = option(100e-9, help="RMS delay spread of TDL/CDL [s].", lo=0.0,
                                   hi=5e-6)
    distance_m: float = option(100.0, help="MU-BS ground distance [m] (umi/uma/rma).",
                               lo=0.0, lo_open=True, hi=100e3)
    bs_height_m: float = option(0.0, help="BS height [m]; 0 means the 3GPP default "
                                "(umi 10, uma 25, rma 35).", lo=0.0, hi=200.0)
    ut_height_m: float = option(1.5, help="MU height [m].", lo=1.0, hi=22.5)
    tx_power_dbm: float = option(23.0, help="MU transmit power [dBm].", lo=-40.0, hi=50.0)
    noise_figure_db: float = option(7.0, help="BS receiver noise figure [dB].", lo=0.0,
                                    hi=30.0)
    tx_antenna_gain_dbi: float = option(0.0, help="MU antenna gain [dBi].", lo=-20.0,
                                        hi=30.0)
    rx_antenna_gain_dbi: float = option(0.0, help="BS antenna gain [dBi].", lo=-20.0,
                                        hi=40.0)
    bandwidth_hz: float = option(
        0.0, help="Noise bandwidth [Hz] for the link budget; 0 means num_subcarriers*scs_hz.",
        lo=0.0,
    )

    @property
    def noise_bandwidth_hz(self) -> float:
        """Bandwidth used by the link budget [Hz]."""
        return self.bandwidth_hz or self.num_subcarriers * self.scs_hz

    def validate(self) -> None:
        """Rules between fields; raises :class:`~psfl.config.ConfigError`."""
        for rule in (_check_snr_range, _check_numerology, _check_pilots, _check_domain_csi):
            rule(self)


def _check_snr_range(cfg: PhyConfig) -> None:
    if cfg.snr_db_min > cfg.snr_db_max:
        raise ConfigError(
            f"phy.snr_db_min ({cfg.snr_db_min}) > phy.snr_db_max ({cfg.snr_db_max}); "
            "set snr_db_min <= snr_db_max"
        )


def _check_numerology(cfg: PhyConfig) -> None:
    if cfg.num_subcarriers > cfg.fft_size:
        raise ConfigError(
            f"phy.num_subcarriers ({cfg.num_subcarriers}) exceeds phy.fft_size "
            f"({cfg.fft_size}); use a larger fft_size"
        )
    if cfg.cp_length >= cfg.fft_size:
        raise ConfigError("phy.cp_length must be smaller than phy.fft_size")
    if cfg.ls_freq_window % 2 == 0:
        raise ConfigError(f"phy.ls_freq_window ({cfg.ls_freq_window}) must be odd")


def _check_pilots(cfg: PhyConfig) -> None:
    idx = cfg.pilot_ofdm_symbol_indices
    if cfg.pilot_pattern != "kronecker":
        return
    if not idx:
        raise ConfigError("phy.pilot_ofdm_symbol_indices is empty; give at least one "
                          "OFDM symbol index or set pilot_pattern='empty'")
    if len(set(idx)) != len(idx) or max(idx) >= cfg.num_ofdm_symbols:
        raise ConfigError(
            f"phy.pilot_ofdm_symbol_indices {list(idx)} must be distinct and < "
            f"num_ofdm_symbols ({cfg.num_ofdm_symbols})"
        )
    if len(idx) >= cfg.num_ofdm_symbols:
        raise ConfigError("phy.pilot_ofdm_symbol_indices leaves no OFDM symbol for data")


def _check_domain_csi(cfg: PhyConfig) -> None:
    if cfg.domain == "time" and not CHANNEL_REGISTRY.capability(cfg.channel, "has_cir"):
        cir = ", ".join(CHANNEL_REGISTRY.names(has_cir=True))
        raise ConfigError(
            f"phy.domain='time' needs a channel with an impulse response "
            f"({cir}); {cfg.channel} is flat and constant over a slot, where the "
            "frequency-domain link is exact: set phy.domain='frequency'")
    if cfg.slot_timing == "consecutive" and not CHANNEL_REGISTRY.capability(cfg.channel,
                                                                            "has_cir"):
        cir = ", ".join(CHANNEL_REGISTRY.names(has_cir=True))
        raise ConfigError(
            f"phy.slot_timing='consecutive' needs a channel that evolves in time ({cir}); "
            f"{cfg.channel} draws each slot on its own: set phy.slot_timing='independent'")
    if cfg.slot_timing == "consecutive" and cfg.domain == "time":
        raise ConfigError("phy.slot_timing='consecutive' runs in the frequency domain; set "
                          "phy.domain='frequency' (or phy.slot_timing='independent')")
    if cfg.csi == "ls" and cfg.pilot_pattern != "kronecker":
        raise ConfigError("phy.csi='ls' needs pilots; set phy.pilot_pattern='kronecker'")


register_section("phy", PhyConfig)
