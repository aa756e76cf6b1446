r"""Radios behind one interface: a real ADALM-Pluto, the Pluto twin, an emulated front end.

Every radio has ``sample_rate_hz``, ``rx_buffer_size`` (settable), ``tx(samples)``
(cyclic: the buffer repeats until the next ``tx``), ``rx() -> samples``, ``close()`` and
``describe() -> dict``; samples are complex with rails in pyadi's units (TX within about
:math:`\pm 2^{14}`, RX in 12-bit ADC codes :math:`\pm 2048`).

* :class:`PlutoRadio` — ``adi.Pluto(uri)`` (pyadi-iio → libiio). Settings are checked
  against the Pluto's ranges *before* the radio is touched (:func:`check_pluto_settings`);
  "No device found" becomes a :class:`RadioError` naming the URI and how to find devices;
  a connection lost mid-run becomes a :class:`RadioError` too. ``close()`` always destroys
  the TX and RX buffers first (pylibiio crashes when a live buffer is garbage-collected in
  a reference cycle with its context).
* :class:`TwinRadio` — a :class:`~psfl.hil.twin.PlutoTwin` on 127.0.0.1 and the very same
  :class:`PlutoRadio` code path pointed at it.
* :class:`EmulatedRadio` — numpy only, built from the twin's front-end stages
  (:mod:`psfl.hil.twin.frontend`: DAC, TX stream, carrier rotation, AWGN, ADC). Signal path
  of ``rx()`` (normalized to DAC/ADC full scale; the TX buffer repeats from a random start
  offset):

  1. multipath and fractional timing offset, applied to the cyclic TX buffer as one
     circular convolution (exact for a cyclic transmission): taps of the ``exp`` profile
     at the sample spacing with powers :math:`\propto e^{-\tau/\tau_\mathrm{rms}}`
     (``tau <= 4 tau_rms``), fixed phases from ``seed``, unit total power — a static
     frequency-selective channel, documented instead of a fading one so that EVM figures
     are repeatable;
  2. CFO :math:`e^{j 2\pi f n / f_s}` with the global sample clock (continuous across
     ``rx()`` calls) times Wiener phase noise of 3-dB linewidth :math:`\beta`
     (increments :math:`\mathcal N(0, 2\pi\beta/f_s)`);
  3. AWGN at ``snr_db`` relative to the mean TX power (as the twin defines it);
  4. IQ imbalance :math:`y = \mu x + \nu x^*` with :math:`\mu = (1 + g e^{-j\phi})/2`,
     :math:`\nu = (1 - g e^{j\phi})/2`, amplitude :math:`g` and phase :math:`\phi`;
  5. gain (TX attenuation + RX gain + ``loopback_gain_db``, as the twin), DC offset, and
     12-bit quantization with saturation.
"""

from __future__ import annotations

import errno
import gc
from typing import Any, Protocol

import numpy as np

from psfl.errors import PsflError
from psfl.hil.pluto_rules import (
    LO_RANGE_AD9363,
    LO_RANGE_AD9364,
    RX_GAIN_RANGE,
    RX_RF_BW_RANGE,
    SAMPLE_RATE_RANGE,
    TX_GAIN_RANGE,
    TX_RF_BW_RANGE,
)
from psfl.hil.twin import PlutoTwin
from psfl.hil.twin.frontend import TxStream, adc, awgn, dac_rails, rotate

__all__ = [
    "EmulatedRadio",
    "PlutoRadio",
    "Radio",
    "RadioError",
    "TwinRadio",
    "check_pluto_settings",
    "exp_taps",
    "open_radio",
    "set_cfo_hz",
]

_FIND_DEVICES = ("list radios with `iio_info -s` (libiio's scan); a Pluto on USB answers at "
                 "ip:192.168.2.1 (its default) or usb:<bus>.<device>.<interface> as printed "
                 "by iio_info -s; pass it with --uri")


class RadioError(PsflError):
    """The radio cannot be reached, rejected a setting, or went away mid-run."""


class Radio(Protocol):
    """What :class:`psfl.hil.link.HilLink` needs from a radio."""

    sample_rate_hz: float
    rx_buffer_size: int

    def tx(self, samples: np.ndarray) -> None: ...

    def rx(self) -> np.ndarray: ...

    def close(self) -> None: ...

    def describe(self) -> dict[str, Any]: ...


def _fmt_hz(v: float) -> str:
    for unit, scale in (("GHz", 1e9), ("MHz", 1e6), ("kHz", 1e3)):
        if abs(v) >= scale:
            return f"{v / scale:g} {unit}"
    return f"{v:g} Hz"


def check_pluto_settings(*, lo_hz: float, tx_lo_hz: float | None = None,
                         sample_rate_hz: float, rf_bandwidth_hz: float,
                         tx_attenuation_db: float, rx_gain_db: float,
                         ad9364: bool = False) -> None:
    """Raise :class:`RadioError` stating the allowed range if a setting is outside what the
    Pluto (AD9363, or AD9364 with ``ad9364``) accepts. Touches no hardware.

    Parameters
    ----------
    lo_hz, tx_lo_hz : float
        RX and TX LO [Hz] (``tx_lo_hz`` defaults to ``lo_hz``).
    sample_rate_hz, rf_bandwidth_hz : float
        Baseband sample rate and analog bandwidth [Hz].
    tx_attenuation_db, rx_gain_db : float
        TX attenuation (positive dB) and manual RX gain [dB].
    ad9364 : bool
        Widened LO range (firmware set to AD9364).
    """
    lo_rng = LO_RANGE_AD9364 if ad9364 else LO_RANGE_AD9363
    chip = "AD9364 setting" if ad9364 else "stock AD9363 firmware"
    for name, v in (("hil.lo_hz", lo_hz), ("TX LO (hil.lo_hz + hil.tx_lo_offset_hz)",
                                           lo_hz if tx_lo_hz is None else tx_lo_hz)):
        if not lo_rng[0] <= v <= lo_rng[1]:
            hint = ("" if ad9364 else "; Plutos switched to AD9364 mode (fw_setenv "
                    "attr_name compatible, attr_val ad9364) allow 70 MHz-6 GHz with "
                    "hil.ad9364=true")
            raise RadioError(f"{name} {_fmt_hz(v)} is outside the Pluto's LO range "
                             f"{_fmt_hz(lo_rng[0])}-{_fmt_hz(lo_rng[1])} ({chip}){hint}")
    lo, hi = SAMPLE_RATE_RANGE
    if not lo <= sample_rate_hz <= hi:
        raise RadioError(f"sample rate {_fmt_hz(sample_rate_hz)} is outside the Pluto's range "
                         f"{_fmt_hz(lo)}-{_fmt_hz(hi)} (hil.sample_rate_hz, or phy.fft_size * "
                         "phy.scs_hz when it is 0)")
    lo, hi = max(RX_RF_BW_RANGE[0], TX_RF_BW_RANGE[0]), min(RX_RF_BW_RANGE[1], TX_RF_BW_RANGE[1])
    if not lo <= rf_bandwidth_hz <= hi:
        raise RadioError(f"hil.rf_bandwidth_hz {_fmt_hz(rf_bandwidth_hz)} is outside the "
                         f"Pluto's range {_fmt_hz(lo)}-{_fmt_hz(hi)}")
    lo, hi = -TX_GAIN_RANGE[1], -TX_GAIN_RANGE[0]
    if not lo <= tx_attenuation_db <= hi:
        raise RadioError(f"hil.tx_attenuation_db {tx_attenuation_db:g} dB is outside the "
                         f"Pluto's range {lo:g}-{hi:g} dB")
    lo, hi = RX_GAIN_RANGE
    if not lo <= rx_gain_db <= hi:
        raise RadioError(f"hil.rx_gain_db {rx_gain_db:g} dB is outside the Pluto's manual RX "
                         f"gain range {lo}-{hi} dB")


class PlutoRadio:
    """An ADALM-Pluto through pyadi-iio (``adi.Pluto(uri)``).

    Parameters
    ----------
    uri : str
        libiio URI: ``ip:192.168.2.1``, ``ip:host:port``, ``usb:1.2.5``.
    lo_hz : float
        RX LO [Hz]; the TX LO is ``lo_hz + tx_lo_offset_hz``.
    sample_rate_hz : float
        Baseband sample rate [Hz].
    rf_bandwidth_hz : float or None
        RX and TX analog bandwidth [Hz]; ``None`` means the sample rate.
    tx_attenuation_db : float
        TX attenuation [dB] (``tx_hardwaregain_chan0 = -value``).
    gain_mode : str
        ``manual``, ``slow_attack``, ``fast_attack`` or ``hybrid``.
    rx_gain_db : float
        RX gain in manual mode [dB].
    rx_buffer_size : int
        Samples per ``rx()``.
    tx_lo_offset_hz : float
        TX minus RX LO [Hz].
    ad9364 : bool
        Accept the widened LO range.
    timeout_ms : int
        libiio I/O timeout.
    """

    kind = "pluto"

    def __init__(self, uri: str, *, lo_hz: float, sample_rate_hz: float,
                 rf_bandwidth_hz: float | None = None, tx_attenuation_db: float = 10.0,
                 gain_mode: str = "manual", rx_gain_db: float = 40.0,
                 rx_buffer_size: int = 32768, tx_lo_offset_hz: float = 0.0,
                 ad9364: bool = False, timeout_ms: int = 5000):
        bw = float(rf_bandwidth_hz or sample_rate_hz)
        tx_lo = lo_hz + tx_lo_offset_hz
        check_pluto_settings(lo_hz=lo_hz, tx_lo_hz=tx_lo, sample_rate_hz=sample_rate_hz,
                             rf_bandwidth_hz=bw, tx_attenuation_db=tx_attenuation_db,
                             rx_gain_db=rx_gain_db, ad9364=ad9364)
        self.uri = uri
        self.sample_rate_hz = float(sample_rate_hz)
        self._settings = dict(lo_hz=lo_hz, tx_lo_hz=tx_lo, sample_rate_hz=sample_rate_hz,
                              rf_bandwidth_hz=bw, tx_attenuation_db=tx_attenuation_db,
                              gain_mode=gain_mode, rx_gain_db=rx_gain_db)
        self._sdr: Any = None
        import adi  # lazy: pyadi-iio loads libiio

        try:
            self._sdr = adi.Pluto(uri)
        except Exception as exc:  # pyadi raises a bare Exception("No device found")
            raise RadioError(f"no Pluto reachable at {uri!r} ({exc or type(exc).__name__}); "
                             + _FIND_DEVICES) from None
        sdr = self._sdr
        try:
            try:
                sdr.ctx.set_timeout(int(timeout_ms))
            except Exception:
                pass
            self._set("sample_rate", int(round(sample_rate_hz)))
            self._set("rx_rf_bandwidth", int(round(bw)))
            self._set("tx_rf_bandwidth", int(round(bw)))
            self._set("rx_lo", int(round(lo_hz)))
            self._set("tx_lo", int(round(tx_lo)))
            self._set("tx_hardwaregain_chan0", -float(tx_attenuation_db))
            self._set("gain_control_mode_chan0", gain_mode)
            if gain_mode == "manual":
                self._set("rx_hardwaregain_chan0", float(rx_gain_db))
            self._set("tx_cyclic_buffer", True)
            self.rx_buffer_size = int(rx_buffer_size)
        except BaseException:
            self.close()
            raise

    def _set(self, attr: str, value: Any) -> None:
        try:
            setattr(self._sdr, attr, value)
        except OSError as exc:
            if exc.errno == errno.EINVAL:
                raise RadioError(f"the Pluto at {self.uri} rejected {attr} = {value!r} "
                                 "(out of its range)") from None
            raise RadioError(f"lost the Pluto at {self.uri} while setting {attr}: "
                             f"{exc.strerror or exc}") from None

    @property
    def rx_buffer_size(self) -> int:
        return int(self._sdr.rx_buffer_size)

    @rx_buffer_size.setter
    def rx_buffer_size(self, n: int) -> None:
        # pyadi sizes the RX buffer when it is created: drop any existing one first.
        self._destroy("rx_destroy_buffer")
        self._sdr.rx_buffer_size = int(n)

    def _destroy(self, name: str) -> None:
        if self._sdr is None:
            return
        try:
            getattr(self._sdr, name)()
        except Exception:
            pass

    def tx(self, samples: np.ndarray) -> None:
        """Load a cyclic TX buffer (replacing the previous one); restarts RX so that the next
        ``rx()`` only holds samples sent after this call.

        Input
        -----
        samples : [n], complex — rails within ±32752 (see :mod:`psfl.hil.waveform`).
        """
        self._destroy("tx_destroy_buffer")
        self._destroy("rx_destroy_buffer")
        try:
            self._sdr.tx(np.asarray(samples, np.complex128))
        except (OSError, ConnectionError) as exc:
            raise RadioError(f"connection to the Pluto at {self.uri} lost during tx(): "
                             f"{exc.strerror if isinstance(exc, OSError) else exc}") from None

    def rx(self) -> np.ndarray:
        """One RX buffer.

        Output
        ------
        samples : [rx_buffer_size], complex128 — ADC codes (±2048).
        """
        try:
            return np.asarray(self._sdr.rx(), np.complex128)
        except (OSError, ConnectionError) as exc:
            msg = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise RadioError(f"connection to the Pluto at {self.uri} lost during rx(): "
                             f"{msg or type(exc).__name__}; check the cable/network and "
                             "`iio_info -s`") from None

    def close(self) -> None:
        """Destroy the TX and RX buffers, then drop the radio (idempotent)."""
        if self._sdr is None:
            return
        self._destroy("tx_destroy_buffer")
        self._destroy("rx_destroy_buffer")
        # pylibiio frees a buffer in Buffer.__del__ and the context in Context.__del__; when both
        # die in one garbage cycle the order is arbitrary and freeing the buffer after its context
        # segfaults. So collect stray buffers (e.g. held by an exception's traceback) while this
        # radio still holds the context alive, and only then let the context go.
        gc.collect()
        self._sdr = None
        gc.collect()

    def describe(self) -> dict[str, Any]:
        """Settings and identity, for summary.json."""
        return {"radio": self.kind, "uri": self.uri, **self._settings,
                "rx_buffer_size": self.rx_buffer_size if self._sdr is not None else None}

    def __enter__(self) -> PlutoRadio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def exp_taps(delay_spread_s: float, sample_rate_hz: float, seed: int = 0) -> np.ndarray:
    """Static multipath taps of the exponential profile (see the module docstring).

    Output
    ------
    taps : [L], complex128 — unit total power; ``[1]`` for a zero delay spread.
    """
    tau = delay_spread_s * sample_rate_hz  # rms delay spread in samples
    if tau <= 0:
        return np.ones(1, np.complex128)
    n = int(np.floor(4 * tau)) + 1
    p = np.exp(-np.arange(n) / tau)
    rng = np.random.default_rng(seed)
    ph = np.exp(2j * np.pi * rng.random(n))
    ph[0] = 1.0
    taps = np.sqrt(p / p.sum()) * ph
    return taps


class EmulatedRadio:
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
        Multipath taps at the sample spacing (e.g. :func:`exp_taps`); ``None``: none.
    gain_db : float
        Net gain DAC full scale → ADC full scale [dB].
    seed : int or None
        Generator seed.
    """

    kind = "emulated"

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

    def __enter__(self) -> EmulatedRadio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TwinRadio(PlutoRadio):
    """A :class:`~psfl.hil.twin.PlutoTwin` started on 127.0.0.1 and driven through the
    real :class:`PlutoRadio` path (pyadi-iio + libiio network backend).

    Parameters
    ----------
    snr_db : float or None
        Twin AWGN relative to the mean TX power [dB].
    cfo_hz : float
        Carrier offset, applied as TX LO − RX LO.
    timing_offset : bool
        Random start offset of the cyclic buffer.
    taps : [L] complex or None
        Multipath taps applied by the twin's ``channel`` hook (an FIR that carries its
        state across RX blocks, so the stream is filtered seamlessly).
    seed : int or None
        Twin seed.
    twin_kwargs : dict
        Further :class:`~psfl.hil.twin.PlutoTwin` arguments (fault injection:
        ``drop_after_reads``, ``stall_after_reads`` …).
    **kwargs
        :class:`PlutoRadio` settings (``lo_hz``, ``sample_rate_hz``, …) except ``uri`` and
        ``tx_lo_offset_hz``.
    """

    kind = "twin"

    def __init__(self, *, snr_db: float | None = 25.0, cfo_hz: float = 0.0,
                 timing_offset: bool = True, taps: np.ndarray | None = None,
                 seed: int | None = None, twin_kwargs: dict[str, Any] | None = None,
                 **kwargs: Any):
        channel = None if taps is None else _StreamFilter(np.asarray(taps, np.complex128))
        self.twin = PlutoTwin("127.0.0.1", 0, snr_db=snr_db, channel=channel,
                              random_offset=timing_offset, seed=seed,
                              ad9364=bool(kwargs.get("ad9364", False)),
                              **(twin_kwargs or {}))
        self.twin.start()
        try:
            super().__init__(self.twin.uri, tx_lo_offset_hz=cfo_hz, **kwargs)
        except BaseException:
            self.twin.stop()
            raise

    def close(self) -> None:
        super().close()
        self.twin.stop()

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(twin_snr_db=self.twin.snr_db, cfo_hz=self._settings["tx_lo_hz"]
                 - self._settings["lo_hz"])
        return d


class _StreamFilter:
    """FIR over the twin's consecutive RX blocks (keeps the tail between calls)."""

    def __init__(self, taps: np.ndarray):
        self.taps = taps
        self._tail = np.zeros(taps.size - 1, np.complex128)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        full = np.convolve(np.concatenate([self._tail, x]), self.taps)
        nt = self.taps.size - 1
        self._tail = np.concatenate([self._tail, x])[-nt:] if nt else self._tail
        return full[nt: nt + x.size]


def set_cfo_hz(hil: Any, scs_hz: float) -> float:
    """The carrier offset [Hz] :func:`open_radio` asks ``hil.radio`` to apply: the emulated
    front end ``hil.cfo_subcarriers`` spacings, the twin those plus ``hil.tx_lo_offset_hz`` (as
    a TX-RX LO difference), a real Pluto only ``hil.tx_lo_offset_hz``."""
    cfo = hil.cfo_subcarriers * scs_hz if hil.radio != "pluto" else 0.0
    return cfo if hil.radio == "emulated" else cfo + hil.tx_lo_offset_hz


def open_radio(hil: Any, sample_rate_hz: float, scs_hz: float, *, seed: int | None = None,
               twin_kwargs: dict[str, Any] | None = None,
               snr_db: float | None = None) -> Radio:
    """The radio ``hil.radio`` configured from a :class:`~psfl.hil.config.HilConfig`.

    Parameters
    ----------
    hil : HilConfig
        Radio, RF settings, and for twin/emulated the channel (SNR, CFO, impairments).
    sample_rate_hz, scs_hz : float
        Sample rate and subcarrier spacing on the air (``cfo_subcarriers`` is in spacings).
    seed : int or None
        Seed of the twin/emulated randomness.
    twin_kwargs : dict or None
        Extra :class:`~psfl.hil.twin.PlutoTwin` arguments (fault injection).
    snr_db : float or None
        Twin/emulated noise relative to the mean TX waveform power [dB] (from
        :func:`psfl.hil.snr.snr_plan` when ``hil.snr_db`` is per RE); ``None``: ``hil.snr_db``.

    Output
    ------
    radio : Radio
    """
    bw = hil.rf_bandwidth_hz or sample_rate_hz
    buf = hil.rx_buffer_size or 32768
    taps = exp_taps(hil.delay_spread_s, sample_rate_hz, seed or 0) if hil.multipath == "exp" \
        else None
    cfo_hz = set_cfo_hz(hil, scs_hz)
    snr_db = hil.snr_db if snr_db is None else snr_db
    if hil.radio == "emulated":
        gain_db = -hil.tx_attenuation_db + hil.rx_gain_db - 30.0  # same path as the twin
        return EmulatedRadio(sample_rate_hz, rx_buffer_size=buf, snr_db=snr_db,
                             cfo_hz=cfo_hz, timing_offset=hil.timing_offset,
                             phase_noise_hz=hil.phase_noise_hz,
                             iq_amplitude_db=hil.iq_amplitude_db, iq_phase_deg=hil.iq_phase_deg,
                             dc_offset=hil.dc_offset, taps=taps, gain_db=gain_db, seed=seed)
    common = dict(lo_hz=hil.lo_hz, sample_rate_hz=sample_rate_hz, rf_bandwidth_hz=bw,
                  tx_attenuation_db=hil.tx_attenuation_db, gain_mode=hil.gain_mode,
                  rx_gain_db=hil.rx_gain_db, rx_buffer_size=buf, ad9364=hil.ad9364)
    if hil.radio == "twin":
        return TwinRadio(snr_db=snr_db, cfo_hz=cfo_hz,
                         timing_offset=hil.timing_offset, taps=taps, seed=seed,
                         twin_kwargs=twin_kwargs, **common)
    if hil.radio == "pluto":
        return PlutoRadio(hil.uri, tx_lo_offset_hz=hil.tx_lo_offset_hz, **common)
    raise RadioError(f"unknown radio {hil.radio!r}; choose pluto, twin or emulated")
