"""Personalized semantic federated learning (PSFL): PLD distillation and AGP pruning on Flower.

The algorithm lives in plain functions (:mod:`.mentor`, :mod:`.distill`, :mod:`.aggregate`,
:mod:`.agp`, :mod:`.local`, :mod:`.channels`); :mod:`.models` the shared student, the starting
weights (``federation.init``) and the per-process model cache; :mod:`.core` holds the BS and MU
roles without any framework; :mod:`.checkpoint` a run's layout and its crash-safe round
checkpoint; :mod:`.apps` wires them into a Flower ServerApp and ClientApp; :mod:`.study` the
statistics of ``psfl study``.
"""

import os

# Flower reports usage events over the network unless told not to; this simulator must stay
# offline (and tests may only talk to loopback).
os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")
