"""A real ADALM-Pluto through pyadi-iio (``adi.Pluto(uri)`` → libiio).

Settings are checked against the Pluto's ranges *before* the radio is touched
(:func:`check_pluto_settings`); "No device found" becomes a
:class:`~psfl.hil.radios.RadioError` naming the URI and how to find devices; a connection lost
mid-run becomes a :class:`~psfl.hil.radios.RadioError` too. ``close()`` always destroys the TX
and RX buffers first (pylibiio crashes when a live buffer is garbage-collected in a reference
cycle with its context). pyadi-iio is imported when a radio is opened, not with this module.
"""

from __future__ import annotations

import errno
import gc
from typing import Any

import numpy as np

from psfl.hil.pluto_rules import (
    LO_RANGE_AD9363,
    LO_RANGE_AD9364,
    RX_RF_BW_RANGE,
    SAMPLE_RATE_RANGE,
    TX_GAIN_RANGE,
    TX_RF_BW_RANGE,
    rx_gain_error,
)
from psfl.hil.radios.registry import RADIOS, Radio, RadioError

__all__ = ["PlutoRadio", "check_pluto_settings"]

_FIND_DEVICES = ("list radios with `iio_info -s` (libiio's scan); a Pluto on USB answers at "
                 "ip:192.168.2.1 (its default) or usb:<bus>.<device>.<interface> as printed "
                 "by iio_info -s; pass it with --uri")


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
        TX attenuation (positive dB) and manual RX gain [dB] (within the gain table of the
        RX LO's band: :func:`psfl.hil.pluto_rules.rx_gain_error`).
    ad9364 : bool
        Widened LO range (firmware set to AD9364).
    """

    def hz(v: float) -> str:  # for the messages only: psfl.plotting imports matplotlib
        from psfl.plotting import si

        return si(v, "Hz")

    lo_rng = LO_RANGE_AD9364 if ad9364 else LO_RANGE_AD9363
    chip = "AD9364 setting" if ad9364 else "stock AD9363 firmware"
    for name, v in (("hil.lo_hz", lo_hz), ("TX LO (hil.lo_hz + hil.tx_lo_offset_hz)",
                                           lo_hz if tx_lo_hz is None else tx_lo_hz)):
        if not lo_rng[0] <= v <= lo_rng[1]:
            hint = ("" if ad9364 else "; Plutos switched to AD9364 mode (fw_setenv "
                    "attr_name compatible, attr_val ad9364) allow 70 MHz-6 GHz with "
                    "hil.ad9364=true")
            raise RadioError(f"{name} {hz(v)} is outside the Pluto's LO range "
                             f"{hz(lo_rng[0])}-{hz(lo_rng[1])} ({chip}){hint}")
    lo, hi = SAMPLE_RATE_RANGE
    if not lo <= sample_rate_hz <= hi:
        raise RadioError(f"sample rate {hz(sample_rate_hz)} is outside the Pluto's range "
                         f"{hz(lo)}-{hz(hi)} (hil.sample_rate_hz, or phy.fft_size * "
                         "phy.scs_hz when it is 0)")
    lo, hi = max(RX_RF_BW_RANGE[0], TX_RF_BW_RANGE[0]), min(RX_RF_BW_RANGE[1], TX_RF_BW_RANGE[1])
    if not lo <= rf_bandwidth_hz <= hi:
        raise RadioError(f"hil.rf_bandwidth_hz {hz(rf_bandwidth_hz)} is outside the "
                         f"Pluto's range {hz(lo)}-{hz(hi)}")
    lo, hi = -TX_GAIN_RANGE[1], -TX_GAIN_RANGE[0]
    if not lo <= tx_attenuation_db <= hi:
        raise RadioError(f"hil.tx_attenuation_db {tx_attenuation_db:g} dB is outside the "
                         f"Pluto's range {lo:g}-{hi:g} dB")
    if (msg := rx_gain_error(rx_gain_db, lo_hz)) is not None:  # the RX LO's gain table
        raise RadioError(msg)


@RADIOS.register("pluto", order=10)
class PlutoRadio(Radio):
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
    label = "ADALM-Pluto"
    about = "ADALM-Pluto via pyadi-iio"
    applies_lo_offset = True
    needs_libiio = True
    uses_uri = True

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

    @staticmethod
    def config_settings(hil: Any, sample_rate_hz: float) -> dict[str, Any]:
        """The :class:`PlutoRadio` settings of a :class:`~psfl.hil.config.HilConfig` but for
        ``uri`` and ``tx_lo_offset_hz`` (shared with the twin)."""
        return dict(lo_hz=hil.lo_hz, sample_rate_hz=sample_rate_hz,
                    rf_bandwidth_hz=hil.rf_bandwidth_hz or sample_rate_hz,
                    tx_attenuation_db=hil.tx_attenuation_db, gain_mode=hil.gain_mode,
                    rx_gain_db=hil.rx_gain_db, rx_buffer_size=hil.rx_buffer_size or 32768,
                    ad9364=hil.ad9364)

    @classmethod
    def from_config(cls, hil: Any, sample_rate_hz: float, scs_hz: float, *,
                    seed: int | None = None, snr_db: float | None = None,
                    twin_kwargs: dict[str, Any] | None = None) -> PlutoRadio:
        """The Pluto at ``hil.uri`` (its SNR is measured, not set: ``snr_db`` and ``seed`` are
        not used)."""
        return cls(hil.uri, tx_lo_offset_hz=cls.cfo_hz(hil, scs_hz),
                   **cls.config_settings(hil, sample_rate_hz))
