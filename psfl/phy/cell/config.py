r"""Configuration of the multi-cell uplink: the ``[cell]`` section (:class:`CellConfig`).

The section is a :class:`~psfl.config.Section` (every field an :func:`~psfl.config.option` with
help, range or choices, checked on construction), registered as ``[cell]`` by
:mod:`psfl.federation.config` for ``federation.uplink = "shared"``. Runs recorded before it
existed still resume: their configuration lacks ``[cell]``, and a key absent from a recorded
configuration counts as its default (:data:`psfl.federation.checkpoint.ADDED_KEYS`).

Defaults of the geometry (inter-site distance, minimum MU–BS distance, BS height) are those of
TR 38.901 Table 7.2-1 as Sionna's ``set_3gpp_scenario_parameters`` sets them (a test keeps the
tables equal); ``0`` in the configuration means "the scenario's default".
"""

from __future__ import annotations

import dataclasses

from psfl.config import ConfigError, Section, option
from psfl.phy.channels.registry import CHANNELS

from .schedulers.registry import SCHEDULERS

__all__ = ["DEFAULT_ISD_M", "DEFAULT_MIN_DISTANCE_M", "SCENARIOS", "CellConfig"]

#: Scenarios with a hexagonal multi-cell layout: the channels with path loss (umi, uma, rma).
SCENARIOS: tuple[str, ...] = CHANNELS.names(has_pathloss=True)

#: Inter-site distance [m] per scenario (Sionna's defaults; TR 38.901 Table 7.2-1, RMa 5000 m).
DEFAULT_ISD_M = {"umi": 200.0, "uma": 500.0, "rma": 5000.0}

#: Minimum MU–BS ground distance [m] per scenario (Sionna's defaults; TR 38.901 Table 7.2-1).
DEFAULT_MIN_DISTANCE_M = {"umi": 10.0, "uma": 35.0, "rma": 35.0}


@dataclasses.dataclass(frozen=True)
class CellConfig(Section):
    """Hexagonal sites, the MUs dropped in them, scheduling, power control and interference.

    The MUs of psfl (``num_mus``) are dropped in the central cell, whose BS is psfl's BS;
    every other cell of the ``num_rings`` rings around it holds ``mus_per_cell`` MUs of its own
    that reuse the carrier (co-channel interferers).
    """

    scenario: str = option("umi", help="TR 38.901 scenario of the layout: " + ", ".join(SCENARIOS)
                           + ".", choices=SCENARIOS)
    num_rings: int = option(1, help="Rings of hexagonal cells around the central one (0: a "
                            "single cell, 1: 7 cells, 2: 19 cells).", lo=0, hi=4)
    isd_m: float = option(0.0, help="Inter-site distance [m]; 0 means the scenario's default "
                          "(umi 200, uma 500, rma 5000).", lo=0.0, hi=100e3)
    min_distance_m: float = option(0.0, help="Minimum MU-BS ground distance [m]; 0 means the "
                                   "scenario's default (umi 10, uma 35, rma 35).", lo=0.0)
    wraparound: bool = option(True, help="Distances to the nearest copy of each site in the "
                              "six mirrored layouts (wrap-around), so edge cells see "
                              "interference as central ones do.")
    num_mus: int = option(10, help="MUs of psfl, dropped in the central (serving) cell (a "
                          "federation drops its data.num_mus MUs instead).", lo=1, hi=10_000)
    mus_per_cell: int = option(0, help="MUs in each neighbouring cell; 0 means num_mus.", lo=0,
                               hi=10_000)
    interference: bool = option(True, help="Co-channel MUs of the neighbouring cells interfere "
                                "at the serving BS (multi-cell layouts only).")
    scheduler: str = option("round-robin", help="PRB scheduler of every cell.",
                            choices=SCHEDULERS)
    pf_beta: float = option(0.98, help="Proportional fair: discount of the averaged throughput.",
                            lo=0.0, lo_open=True, hi=0.999)
    p0_dbm: float = option(-80.0, help="Power control: target received power per PRB P0 [dBm].",
                           lo=-130.0, hi=0.0)
    alpha: float = option(0.8, help="Power control: fractional path-loss compensation alpha.",
                          lo=0.0, hi=1.0)

    @property
    def isd(self) -> float:
        """Inter-site distance in use [m]."""
        return self.isd_m or DEFAULT_ISD_M[self.scenario]

    @property
    def min_distance(self) -> float:
        """Minimum MU–BS ground distance in use [m]."""
        return self.min_distance_m or DEFAULT_MIN_DISTANCE_M[self.scenario]

    @property
    def interferers_per_cell(self) -> int:
        """MUs of each neighbouring cell."""
        return self.mus_per_cell or self.num_mus

    def validate(self) -> None:
        """The minimum distance must leave room in the cell; raises
        :class:`~psfl.config.ConfigError`."""
        inner = self.isd / 2.0  # the hexagon's inner radius (apothem): Sionna's own bound
        if self.min_distance >= inner:
            raise ConfigError(
                f"cell.min_distance_m: {self.min_distance:g} m leaves no room in a cell of inner "
                f"radius {inner:g} m (half the inter-site distance {self.isd:g} m); lower "
                f"cell.min_distance_m or raise cell.isd_m above {2 * self.min_distance:g}")


CellConfig.section_name = "cell"  # error messages name "cell.<key>" before registration too
