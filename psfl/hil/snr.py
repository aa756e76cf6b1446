r"""What ``hil.snr_db`` means: SNR per resource element, or relative to the whole TX waveform.

The twin and the emulated radio add noise relative to the mean power :math:`P` of the loaded
cyclic TX buffer (as a noise source behind a real transmitter would: it knows the waveform,
not the frame layout). The receiver, like :class:`psfl.phy.UplinkLink`'s ``snr_db``,
measures the SNR per occupied resource element (RE). With unit-power REs and the unitary
DFT of :mod:`psfl.hil.waveform`, time-domain noise of variance :math:`\sigma^2` is
:math:`\sigma^2` per RE, so

.. math::

    \mathrm{SNR}_\mathrm{RE} = \mathrm{SNR}_\mathrm{waveform} - 10\log_{10} P,
    \qquad
    P = \frac{F}{N}\cdot\frac{L - G}{L}\cdot\frac{E_\mathrm{RE}}{R},

a constant of the frame layout (:func:`waveform_offset`):

* ``occupied_subcarriers``: :math:`10\log_{10}(N/F)` — only :math:`F` of the :math:`N` FFT
  bins carry power (2.50 dB for 72 of 128);
* ``guard``: :math:`10\log_{10}(L/(L-G))` — the :math:`G` zeros between frames of
  :math:`L` samples (0.23 dB for 128 of 2457);
* ``empty_data_res``: :math:`10\log_{10}(R/(R-E))` — the data REs of the last slot left
  empty when ``k`` symbols do not fill it (1.47 dB for ``k`` = 512 of 864 data REs, 352 empty
  of :math:`R` = 17 · 72 REs in S1, S2, HDR and one slot);
* ``preamble_and_pilots``: :math:`10\log_{10}((R-E)/E_\mathrm{RE})` — the preamble's,
  header's and pilots' RE power against 1 (0.00 dB: S1, S2, HDR and the pilots have unit
  mean power per RE).

The cyclic prefix changes nothing: it repeats the symbol's tail, of the symbol's mean
power. The codec's symbols have unit mean power per image (:meth:`psfl.semantic.Codec.encode`),
so :math:`P` is exact up to that tail's fluctuation and the converters' quantization. For the
default numerology and ``k`` = 512 the sum is 4.20 dB; the twin at ``snr_db`` 25 relative to
the waveform measures 29.2 dB per RE.

``hil.snr_reference = "re"`` (the default) sets the per-RE SNR: the radio's noise is then
placed :func:`waveform_offset` lower, relative to the waveform, so the receiver measures
``hil.snr_db``. ``"waveform"`` passes ``hil.snr_db`` to the radio unchanged.

Needs only numpy (and a :class:`~psfl.hil.waveform.FrameFormat`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

__all__ = ["REFERENCE_TEXT", "SNR_REFERENCES", "SnrPlan", "snr_plan", "waveform_offset"]

#: Values of ``hil.snr_reference``: per resource element, or the mean TX waveform power.
SNR_REFERENCES: tuple[str, ...] = ("re", "waveform")

#: How each reference reads in the log, summary.json and figure labels.
REFERENCE_TEXT = {"re": "per RE", "waveform": "relative to the mean TX waveform power"}


def waveform_offset(fmt: Any) -> dict[str, float]:
    r"""The terms of :math:`-10\log_{10} P` [dB] for frames of ``fmt`` (module docstring):
    per-RE SNR minus waveform-relative SNR, with unit-power semantic symbols.

    Parameters
    ----------
    fmt : FrameFormat

    Output
    ------
    terms : dict of float
        ``occupied_subcarriers``, ``guard``, ``empty_data_res``, ``preamble_and_pilots`` and
        their sum ``total`` [dB].
    """
    n_res = (fmt.num_preamble_symbols + fmt.num_slots * fmt.n_sym) * fmt.n_sc
    empty = fmt.num_slots * fmt.grid.num_data_per_slot - fmt.k
    header = np.abs(fmt.header_freq(0)) ** 2  # BPSK: the same for every frame number
    energy = (np.sum(np.abs(fmt.s1_freq) ** 2) + np.sum(np.abs(fmt.s2_freq) ** 2)
              + np.sum(header) + fmt.num_slots * np.sum(np.abs(fmt.pilots) ** 2) + fmt.k)
    terms = {
        "occupied_subcarriers": 10 * math.log10(fmt.n_fft / fmt.n_sc),
        "guard": 10 * math.log10(fmt.frame_len / (fmt.frame_len - fmt.guard)),
        "empty_data_res": 10 * math.log10(n_res / (n_res - empty)),
        "preamble_and_pilots": 10 * math.log10((n_res - empty) / float(energy)),
    }
    terms["total"] = sum(terms.values())
    return terms


@dataclasses.dataclass(frozen=True)
class SnrPlan:
    """The SNR a run sets, what the radio applies and what the receiver should measure.

    Attributes
    ----------
    set_db : float
        ``hil.snr_db``.
    reference : str
        ``hil.snr_reference`` (``"re"`` or ``"waveform"``).
    radio_db : float
        Noise level the twin/emulated radio applies, relative to the mean TX waveform power.
    expected_re_db : float
        The per-RE SNR the receiver should measure (``radio_db`` + the offset).
    offset_db : dict of float
        :func:`waveform_offset`'s terms.
    """

    set_db: float
    reference: str
    radio_db: float
    expected_re_db: float
    offset_db: dict[str, float]

    def describe(self) -> str:
        """One line with units: what was set and what the receiver should measure."""
        ref = REFERENCE_TEXT[self.reference]
        line = f"SNR set {self.set_db:.1f} dB {ref}"
        if self.reference == "re":
            return (f"{line} (the radio's noise {self.radio_db:.1f} dB below the mean TX "
                    f"waveform power, which is {self.offset_db['total']:.1f} dB below one RE's)")
        return f"{line} (expected {self.expected_re_db:.1f} dB per RE)"

    def label(self) -> str:
        """The set SNR and its reference, short (figure captions, the result line)."""
        text = f"{self.set_db:.1f} dB {REFERENCE_TEXT[self.reference]}"
        if self.reference == "re":
            return text
        return f"{text}, {self.expected_re_db:.1f} dB per RE expected"

    def breakdown(self, fmt: Any) -> str:
        """The offset between the two references, term by term (one log line)."""
        t = self.offset_db
        return (f"SNR per RE minus SNR relative to the mean TX waveform power = "
                f"{t['total']:.2f} dB: "
                f"{t['occupied_subcarriers']:.2f} dB ({fmt.n_sc} of {fmt.n_fft} subcarriers "
                f"occupied) + {t['guard']:.2f} dB ({fmt.guard} guard samples per "
                f"{fmt.frame_len}-sample frame) + {t['empty_data_res']:.2f} dB (data REs left "
                f"empty: {fmt.num_slots * fmt.grid.num_data_per_slot - fmt.k} of "
                f"{fmt.num_slots * fmt.grid.num_data_per_slot}) + "
                f"{t['preamble_and_pilots']:.2f} dB (preamble, header and pilot power)")

    def summary(self) -> dict[str, Any]:
        """The fields summary.json records."""
        return {"snr_set_db": self.set_db, "snr_reference": self.reference,
                "snr_radio_waveform_db": self.radio_db,
                "snr_expected_per_re_db": self.expected_re_db,
                "snr_re_minus_waveform_db": {k: round(v, 4) for k, v in self.offset_db.items()}}


def snr_plan(fmt: Any, snr_db: float, reference: str) -> SnrPlan:
    """The :class:`SnrPlan` of ``snr_db`` under ``reference`` for frames of ``fmt``."""
    if reference not in SNR_REFERENCES:
        raise ValueError(f"unknown SNR reference {reference!r}; choose one of "
                         + ", ".join(SNR_REFERENCES))
    terms = waveform_offset(fmt)
    off = terms["total"]
    radio = snr_db - off if reference == "re" else snr_db
    return SnrPlan(set_db=float(snr_db), reference=reference, radio_db=float(radio),
                   expected_re_db=float(radio + off), offset_db=terms)
