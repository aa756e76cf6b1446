"""psfl — end-to-end semantic-communication link simulator trained by personalized federated learning.

Parts (imports point one way: hil → federation/semantic → phy):

* :mod:`psfl.phy` — Sionna uplink MU→BS (OFDM, channels, CSI, link budget, energy, digital baseline).
* :mod:`psfl.semantic` — Keras semantic codecs (GSC ViT/MAE family, CSC CNN student) and metrics.
* :mod:`psfl.federation` — PSFL (PLD distillation, AGP pruning) on Flower, with baselines.
* :mod:`psfl.hil` — the same frames through a software-defined radio.

Shared infrastructure lives at the top level: :mod:`psfl.config`, :mod:`psfl.data`,
:mod:`psfl.results`, :mod:`psfl.cli`.
"""

from psfl._quiet import install as _install_quiet_tensorflow

__version__ = "0.1.0"

_install_quiet_tensorflow()  # TensorFlow's start-up lines muted when it is imported (psfl._quiet)
