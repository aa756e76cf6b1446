"""The two roles of PSFL without any framework: the BS (:class:`BaseStation`) and an MU
(:class:`MobileUserClient`). Flower's ServerApp/ClientApp (:mod:`psfl.federation.apps`, with the
BS's rounds in :mod:`psfl.federation.flower_strategy`) and the bare loop
(:func:`psfl.federation.loop.run_loop`) only move their payloads around.

A payload is ``(arrays, config)``: a list of NumPy arrays (or ``None``) and a flat dict of
scalars, which maps one-to-one onto Flower's ``ArrayRecord`` and ``ConfigRecord``
(:mod:`psfl.federation.records`).

Per round ``r``:

1. BS (:mod:`.base_station`): draw every MU's channel; its strategy
   (:mod:`psfl.federation.strategies`, ``configure_train``) says what each MU gets: the model
   (under AGP pruned by the MU's downlink SNR from the dense global student, or none) and the
   objective. The decisions travel in a :class:`RoundPlan` to step 3.
2. MU (:mod:`.mobile_user`): evaluate the received global student; train the student with the
   objective it was sent (``pld``: train its persistent mentor and distil it into the student);
   evaluate the personalized student.
3. BS: the strategy screens the updates and makes the next global model (``aggregate_train``);
   the BS accounts bits, airtime and energy per MU and checkpoints the round atomically
   (:mod:`psfl.federation.checkpoint`).
"""

from psfl.federation.roles.base_station import BaseStation, MuPlan, RoundPlan
from psfl.federation.roles.mobile_user import MobileUserClient, Payload

__all__ = ["BaseStation", "MobileUserClient", "MuPlan", "Payload", "RoundPlan"]
