r"""Channel models by name, returning per-slot frequency responses (and impulse responses).

One module per family registers its classes in :data:`~psfl.phy.channels.registry.CHANNELS`
under their ``phy.channel`` names, with their capabilities (impulse response, path loss,
small-scale channel of the federation) as class attributes of
:class:`~psfl.phy.channels.registry.ChannelModel`:

* :mod:`~psfl.phy.channels.awgn` — ``awgn``: :math:`h = 1`.
* :mod:`~psfl.phy.channels.rayleigh` — ``rayleigh``: one :math:`\mathcal{CN}(0,1)` coefficient
  per slot and receive antenna, constant over the slot.
* :mod:`~psfl.phy.channels.tdl` — ``tdl-a`` … ``tdl-e``: 3GPP TR 38.901 tapped delay line.
* :mod:`~psfl.phy.channels.cdl` — ``cdl-a`` … ``cdl-e``: 3GPP clustered delay line, uplink.
* :mod:`~psfl.phy.channels.system_level` — ``umi``, ``uma``, ``rma``: 3GPP system-level models
  with path loss, shadowing and LoS from the MU–BS distance (and our 3-D path-loss workaround).

Every model is normalized on average, never per realization (see
:mod:`~psfl.phy.channels.registry`). A new channel is one new module here (copy
:mod:`~psfl.phy.channels.rayleigh`) plus its tests.

:class:`ChannelSampler` draws the configured channel; :func:`frequency_response` turns a CIR
into the OFDM grid's response. Names are imported lazily: importing this package (which the
registry's discovery does) loads no TensorFlow or Sionna.
"""

from __future__ import annotations

from psfl._lazy import lazy_face

_EXPORTS = {
    "ChannelModel": "psfl.phy.channels.registry",
    "ChannelSampler": "psfl.phy.channels._sampler",
    "frequency_response": "psfl.phy.channels._common",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_face(__name__, _EXPORTS, globals())
