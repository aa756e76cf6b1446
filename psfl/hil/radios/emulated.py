r"""The emulated front end: a numpy model of a Pluto in cabled loopback, built from the twin's
front-end stages (:mod:`psfl.hil.twin.frontend`: DAC, TX stream, carrier rotation, AWGN, ADC).

Signal path of ``rx()`` (normalized to DAC/ADC full scale; the TX buffer repeats from a random
start offset):

1. multipath and fractional timing offset, applied to the cyclic TX buffer as one circular
   convolution (exact for a cyclic transmission): taps of the ``exp`` profile
   (:func:`~psfl.hil.radios.exp_taps`) at the sample spacing with powers
   :math:`\propto e^{-\tau/\tau_\mathrm{rms}}` (``tau <= 4 tau_rms``), fixed phases from
   ``seed``, unit total power — a static frequency-selective channel, documented instead of a
   fading one so that EVM figures are repeatable;
2. CFO :math:`e^{j 2\pi f n / f_s}` with the global sample clock (continuous across ``rx()``
   calls) times Wiener phase noise of 3-dB linewidth :math:`\beta` (increments
   :math:`\mathcal N(0, 2\pi\beta/f_s)`);
3. AWGN at ``snr_db`` relative to the mean TX power (as the twin defines it);
4. IQ imbalance :math:`y = \mu x + \nu x^*` with :math:`\mu = (1 + g e^{-j\phi})/2`,
   :math:`\nu = (1 - g e^{j\phi})/2`, amplitude :math:`g` and phase :math:`\phi`;
5. gain (TX attenuation + RX gain + ``loopback_gain_db``, as the twin), DC offset, and 12-bit
   quantization with saturation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from psfl.hil.radios._common import config_taps
from psfl.hil.radios.registry import RADIOS, Radio, RadioError
from psfl.hil.twin.frontend import TxStream, adc, awgn, dac_rails, rotate

__all__ = ["EmulatedRadio"]


@RADIOS.register("emulated", order=30)
class EmulatedRadio(Radio):
    """A numpy model of a Pluto in cabled loopback (signal path in the module docstring).

    Parameters
    ----------
    sample_rate_hz : float
        Sample rate [Hz].
    rx_buffer_size : int
        Samples per ``rx()``.
    snr_db : float or None
        AWGN relative to the mean TX power [dB]; ``None``: no noise.
    cfo_hz : float
        Carrier offset [Hz].
    timing_offset : bool
        Random start offset into the cyclic buffer and a random fractional delay (0…1
        sample).
    phase_noise_hz : float
        Wiener phase-noise linewidth [Hz].
    iq_amplitude_db, iq_phase_deg : float
        IQ imbalance.
    dc_offset : float
        DC offset [fraction of ADC full scale] (a random phase).
    taps : [L] complex or None
        Multipath taps at the sample spacing (e.g. :func:`~psfl.hil.radios.exp_taps`); ``None``: none.
    gain_db : float
        Net gain DAC full scale → ADC full scale [dB].
    seed : int or None
        Generator seed.
    """

    kind = "emulated"
    label = "emulated front end"
    about = "numpy front end"
    sets_own_snr = True
    applies_cfo_subcarriers = True

    def __init__(self, sample_rate_hz: float, *, rx_buffer_size: int = 32768,
                 snr_db: float | None = 25.0, cfo_hz: float = 0.0, timing_offset: bool = True,
                 phase_noise_hz: float = 0.0, iq_amplitude_db: float = 0.0,
                 iq_phase_deg: float = 0.0, dc_offset: float = 0.0,
                 taps: np.ndarray | None = None, gain_db: float = 0.0,
                 seed: int | None = None):
        self.sample_rate_hz = float(sample_rate_hz)
        self.rx_buffer_size = int(rx_buffer_size)
        self.snr_db = snr_db
        self.cfo_hz = float(cfo_hz)
        self.timing_offset = timing_offset
        self.phase_noise_hz = float(phase_noise_hz)
        g = 10 ** (iq_amplitude_db / 20)
        phi = np.deg2rad(iq_phase_deg)
        self._mu = (1 + g * np.exp(-1j * phi)) / 2
        self._nu = (1 - g * np.exp(1j * phi)) / 2
        self.iq = (iq_amplitude_db, iq_phase_deg)
        self._rng = np.random.default_rng(seed)
        self.dc = dc_offset * np.exp(2j * np.pi * self._rng.random())
        self.taps = None if taps is None else np.asarray(taps, np.complex128)
        self.gain = 10 ** (gain_db / 20)
        self._tx = TxStream()  # the cyclic buffer after multipath, on the global sample clock
        self._phase = 0.0
        self._ref_power = 1e-4
        self.delay = 0.0  # fractional delay of the current buffer [samples]
        self.closed = False

    @classmethod
    def from_config(cls, hil: Any, sample_rate_hz: float, scs_hz: float, *,
                    seed: int | None = None, snr_db: float | None = None,
                    twin_kwargs: dict[str, Any] | None = None) -> EmulatedRadio:
        """The front end with the impairments of ``hil`` (noise at ``snr_db``, default
        ``hil.snr_db``; the gain of the twin's path; ``twin_kwargs`` is not used)."""
        gain_db = -hil.tx_attenuation_db + hil.rx_gain_db - 30.0  # same path as the twin
        return cls(sample_rate_hz, rx_buffer_size=hil.rx_buffer_size or 32768,
                   snr_db=hil.snr_db if snr_db is None else snr_db,
                   cfo_hz=cls.cfo_hz(hil, scs_hz), timing_offset=hil.timing_offset,
                   phase_noise_hz=hil.phase_noise_hz, iq_amplitude_db=hil.iq_amplitude_db,
                   iq_phase_deg=hil.iq_phase_deg, dc_offset=hil.dc_offset,
                   taps=config_taps(hil, sample_rate_hz, seed), gain_db=gain_db, seed=seed)

    def tx(self, samples: np.ndarray) -> None:
        """Load a cyclic buffer (pyadi scale); the stream restarts at a random offset.

        Input
        -----
        samples : [n], complex
        """
        if self.closed:
            raise RadioError("emulated radio is closed")
        x = dac_rails(samples)  # the DAC keeps 12 MSBs
        self._ref_power = max(float(np.mean(np.abs(x) ** 2)), 1e-30)
        n = x.size
        h = np.ones(n, np.complex128)
        f = np.fft.fftfreq(n)  # cycles per sample
        if self.taps is not None:
            tp = np.zeros(n, np.complex128)
            tp[: min(n, self.taps.size)] = self.taps[:n]
            h = h * np.fft.fft(tp)
        self.delay = float(self._rng.random()) if self.timing_offset else 0.0
        h = h * np.exp(-2j * np.pi * f * self.delay)
        self._tx.load(np.fft.ifft(np.fft.fft(x) * h),
                      int(self._rng.integers(0, n)) if self.timing_offset else 0)

    def rx(self) -> np.ndarray:
        """Next ``rx_buffer_size`` samples (continuing the stream).

        Output
        ------
        samples : [rx_buffer_size], complex128 — ADC codes (±2048).
        """
        if self.closed:
            raise RadioError("emulated radio is closed")
        n = self.rx_buffer_size
        p0, x = self._tx.read(n)
        walk = None
        if self.phase_noise_hz > 0:
            sd = np.sqrt(2 * np.pi * self.phase_noise_hz / self.sample_rate_hz)
            walk = self._phase + np.cumsum(self._rng.normal(0.0, sd, n))
            self._phase = float(walk[-1])
        x = rotate(x, self.cfo_hz, self.sample_rate_hz, p0, walk)
        noise = awgn(self._rng, n, self._ref_power, self.snr_db)
        if noise is not None:
            x = x + noise
        x = self._mu * x + self._nu * np.conj(x)
        x = x * self.gain + self.dc
        re, im = adc(x)
        return re + 1j * im

    def close(self) -> None:
        self.closed = True
        self._tx.clear()

    def describe(self) -> dict[str, Any]:
        return {"radio": self.kind, "sample_rate_hz": self.sample_rate_hz,
                "snr_db": self.snr_db, "cfo_hz": self.cfo_hz,
                "phase_noise_hz": self.phase_noise_hz, "iq_imbalance_db_deg": list(self.iq),
                "dc_offset": float(abs(self.dc)),
                "multipath_taps": 0 if self.taps is None else int(self.taps.size),
                "rx_buffer_size": self.rx_buffer_size}
