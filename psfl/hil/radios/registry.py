"""The radios of ``psfl hil`` (``hil.radio``): the :class:`Radio` base, its registry
:data:`RADIOS` and :func:`open_radio`, the one factory.

A radio is one module of :mod:`psfl.hil.radios` that registers a :class:`Radio` subclass::

    @RADIOS.register("pluto", order=10)
    class PlutoRadio(Radio):
        kind = "pluto"
        label = "ADALM-Pluto"
        needs_libiio = True
        ...

        @classmethod
        def from_config(cls, hil, sample_rate_hz, scs_hz, *, seed=None, snr_db=None,
                        twin_kwargs=None): ...

``hil.radio``'s choices, help and error, ``psfl hil --radio``, the titles and captions of its
figures and :func:`open_radio` read the registry and the class attributes below; nothing else
names a radio. This module imports numpy only: pyadi-iio and libiio are imported by the radios
that need them, inside their methods.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from psfl.errors import PsflError
from psfl.registry import Registry

__all__ = ["RADIOS", "Radio", "RadioError", "open_radio", "radio_class"]


class RadioError(PsflError):
    """The radio cannot be reached, rejected a setting, or went away mid-run."""


class Radio:
    """Base of every radio: what :class:`psfl.hil.link.HilLink` drives and what ``psfl hil``
    asks of a radio before opening it.

    An instance has ``sample_rate_hz``, ``rx_buffer_size`` (settable), ``tx(samples)`` (cyclic:
    the buffer repeats until the next ``tx``), ``rx() -> samples``, ``close()`` (idempotent)
    and ``describe() -> dict`` (settings for ``summary.json``); samples are complex with rails
    in pyadi's units (TX within about :math:`\\pm 2^{14}`, RX in 12-bit ADC codes
    :math:`\\pm 2048`). A radio is a context manager that closes on exit.

    Capabilities (class attributes, read without opening the radio):

    kind : str
        The registered name (``hil.radio``), also ``describe()["radio"]``.
    label : str
        How the radio reads in titles, captions and the log ("ADALM-Pluto").
    about : str
        One line for ``hil.radio``'s help ("ADALM-Pluto via pyadi-iio").
    sets_own_snr : bool
        The radio adds noise at ``hil.snr_db`` (twin, emulated front end); a real radio's SNR is
        only measured.
    applies_cfo_subcarriers : bool
        The radio applies ``hil.cfo_subcarriers`` spacings of carrier offset.
    applies_lo_offset : bool
        The radio sets its TX LO ``hil.tx_lo_offset_hz`` away from its RX LO.
    needs_libiio : bool
        Opened through pyadi-iio and libiio.
    uses_uri : bool
        Reached at ``hil.uri`` (named in captions).
    """

    kind: ClassVar[str] = ""
    label: ClassVar[str] = ""
    about: ClassVar[str] = ""
    sets_own_snr: ClassVar[bool] = False
    applies_cfo_subcarriers: ClassVar[bool] = False
    applies_lo_offset: ClassVar[bool] = False
    needs_libiio: ClassVar[bool] = False
    uses_uri: ClassVar[bool] = False

    sample_rate_hz: float
    rx_buffer_size: int

    # -- before opening -------------------------------------------------------------------
    @classmethod
    def from_config(cls, hil: Any, sample_rate_hz: float, scs_hz: float, *,
                    seed: int | None = None, snr_db: float | None = None,
                    twin_kwargs: dict[str, Any] | None = None) -> Radio:
        """The radio configured from a :class:`~psfl.hil.config.HilConfig` (see
        :func:`open_radio` for the parameters)."""
        raise NotImplementedError(f"{cls.__name__} does not implement from_config")

    @classmethod
    def cfo_hz(cls, hil: Any, scs_hz: float) -> float:
        """The carrier offset [Hz] the radio is asked to apply: ``hil.cfo_subcarriers``
        spacings where it :attr:`applies_cfo_subcarriers`, plus ``hil.tx_lo_offset_hz`` (a TX-RX
        LO difference) where it :attr:`applies_lo_offset`."""
        cfo = hil.cfo_subcarriers * scs_hz if cls.applies_cfo_subcarriers else 0.0
        return cfo + hil.tx_lo_offset_hz if cls.applies_lo_offset else cfo

    @classmethod
    def cfo_set_hz(cls, hil: Any, scs_hz: float) -> float | None:
        """The carrier offset figures and captions show as set [Hz]; ``None`` for a radio that
        adds no offset of its own when no LO offset is asked either."""
        cfo = cls.cfo_hz(hil, scs_hz)
        return None if not cls.applies_cfo_subcarriers and cfo == 0 else cfo

    @classmethod
    def where(cls, hil: Any) -> str:
        """The radio in captions: its label, and ``at URI`` where it :attr:`uses_uri`."""
        return cls.label + (f" at {hil.uri}" if cls.uses_uri else "")

    # -- open -----------------------------------------------------------------------------
    def tx(self, samples: np.ndarray) -> None:
        """Load a cyclic TX buffer (replacing the previous one).

        Input
        -----
        samples : [n], complex — rails within ±32752 (see :mod:`psfl.hil.waveform`).
        """
        raise NotImplementedError

    def rx(self) -> np.ndarray:
        """One RX buffer.

        Output
        ------
        samples : [rx_buffer_size], complex128 — ADC codes (±2048).
        """
        raise NotImplementedError

    def close(self) -> None:
        """Release the radio (idempotent)."""

    def describe(self) -> dict[str, Any]:
        """Settings and identity, for summary.json."""
        return {"radio": self.kind}

    def __enter__(self) -> Radio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


RADIOS = Registry("radio", "psfl.hil.radios", setting="hil.radio (--radio)", base=Radio)
"""Every radio by its ``hil.radio`` name."""


def radio_class(name: str) -> type[Radio]:
    """The class registered as ``name``; an unknown name raises :class:`RadioError` listing
    the radios."""
    if name not in RADIOS:
        raise RadioError(RADIOS.unknown(name))
    return RADIOS.cls(name)


def open_radio(hil: Any, sample_rate_hz: float, scs_hz: float, *, seed: int | None = None,
               twin_kwargs: dict[str, Any] | None = None,
               snr_db: float | None = None) -> Radio:
    """The radio ``hil.radio`` configured from a :class:`~psfl.hil.config.HilConfig`.

    Parameters
    ----------
    hil : HilConfig
        Radio, RF settings, and for radios that set their own channel the channel (SNR, CFO,
        impairments).
    sample_rate_hz, scs_hz : float
        Sample rate and subcarrier spacing on the air (``cfo_subcarriers`` is in spacings).
    seed : int or None
        Seed of the radio's randomness (twin, emulated front end).
    twin_kwargs : dict or None
        Extra :class:`~psfl.hil.twin.PlutoTwin` arguments (fault injection; radios without a
        twin ignore them).
    snr_db : float or None
        Noise relative to the mean TX waveform power [dB] for radios that
        :attr:`~Radio.sets_own_snr` (from :func:`psfl.hil.snr.snr_plan` when ``hil.snr_db`` is
        per RE); ``None``: ``hil.snr_db``.

    Output
    ------
    radio : Radio
    """
    return radio_class(hil.radio).from_config(hil, sample_rate_hz, scs_hz, seed=seed,
                                              snr_db=snr_db, twin_kwargs=twin_kwargs)
