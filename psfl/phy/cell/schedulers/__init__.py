"""Uplink schedulers of a cell, one module each, registered in
:data:`~psfl.phy.cell.schedulers.registry.SCHEDULERS` (``cell.scheduler``):

* :mod:`~psfl.phy.cell.schedulers.round_robin` — ``round-robin``: equal contiguous shares,
  rotating.
* :mod:`~psfl.phy.cell.schedulers.proportional_fair` — ``proportional-fair``: Sionna's
  :class:`~sionna.sys.PFSchedulerSUMIMO` per PRB and slot.

A new scheduler is one new module here (copy ``round_robin``) plus its tests.
"""
