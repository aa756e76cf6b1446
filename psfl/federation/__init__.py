"""Personalized semantic federated learning (PSFL): PLD distillation and AGP pruning on Flower.

* The algorithm as plain functions: :mod:`.mentor`, :mod:`.distill`, :mod:`.aggregate`,
  :mod:`.agp`, :mod:`.local`, :mod:`.channels`.
* :mod:`.strategies`: one module per training strategy (PSFL, its ablations, FedAvg, FedProx,
  FedAdam, local-only), each a small subclass of one base in Flower's shape
  (``configure_train``, ``aggregate_train``, …), registered under the name users type.
* :mod:`.roles` the BS and an MU without any framework; :mod:`.models` the shared student and
  where every model starts (``federation.init``); :mod:`.cache` what one process keeps between
  messages; :mod:`.checkpoint` a run's layout and its crash-safe round checkpoint.
* Moving payloads: :mod:`.loop` (bare loop), :mod:`.flower_strategy` (the BS's rounds as a
  Flower strategy), :mod:`.records` (Message-API records), :mod:`.apps` (ServerApp/ClientApp
  and the in-process simulation); :mod:`.deploy_keys` the TLS certificates and SuperNode keys
  of a secured deployment.
* :mod:`.report`, :mod:`.energy`, :mod:`.study`: summaries and the statistics of ``psfl study``.
"""

import os

# Flower reports usage events over the network unless told not to; this simulator must stay
# offline (and tests may only talk to loopback).
os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")
