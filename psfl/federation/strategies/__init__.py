"""Training strategies: one module per strategy, each a small subclass of :class:`Strategy`
registered in :data:`STRATEGIES` under the name users type (``federation.strategy``,
``--strategy``). The base, the registry and the values a round hands around are in
:mod:`.registry`; a new strategy is a new module here (copy :mod:`.fedprox` or :mod:`.fedadam`).

=============  ========  ========  =========  ==========  ============  ==========================
strategy       uses_pld  uses_agp  objective  aggregates  server_state  module
=============  ========  ========  =========  ==========  ============  ==========================
psfl           yes       yes       pld        yes                       :mod:`.psfl`
psfl-no-pld    no        yes       mse        yes                       :mod:`.psfl_no_pld`
psfl-no-agp    yes       no        pld        yes                       :mod:`.psfl_no_agp`
fedavg-csc     no        no        mse        yes                       :mod:`.fedavg`
fedprox-csc    no        no        prox       yes                       :mod:`.fedprox`
local-only     no        no        mse        no                        :mod:`.local_only`
fedadam-csc    no        no        mse        yes         m, v          :mod:`.fedadam`
=============  ========  ========  =========  ==========  ============  ==========================

``STRATEGIES.table("uses_pld", "uses_agp", "objective", "aggregates")`` gives these rows from the
classes themselves. Importing this package (or listing the registry) loads no TensorFlow or
Flower: the configuration reads its choices from here.
"""

from psfl.federation.strategies.registry import (
    STRATEGIES,
    Aggregated,
    Instruction,
    Reply,
    State,
    Strategy,
    Update,
    Weights,
)

__all__ = ["STRATEGIES", "Aggregated", "Instruction", "Reply", "State", "Strategy", "Update",
           "Weights"]
