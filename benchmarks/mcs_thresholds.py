"""Measure the digital baseline's MCS threshold table for one channel configuration.

The table (10 %-BLER SNR per MCS, made non-decreasing; see :mod:`psfl.phy.digital.calibration`) is
measured over ``UplinkLink(phy)`` with a progress bar and written, with its key, as
``<channel>-<csi>-k<k>.json`` into the shipped folder ``psfl/phy/mcs/`` (or ``--out``).

    python -m benchmarks.mcs_thresholds --set phy.channel=rayleigh [--k 512] [--config FILE]
    python -m benchmarks.mcs_thresholds --set phy.channel=tdl-c --set phy.csi=ls

``k`` defaults to the shipped codecs' (``data.patch_size`` = 32 at ``semantic.k_over_n`` = 1/6:
512). Wall time on 2 CPU cores: AWGN ~3 min, Rayleigh ~10 min, TDL-C with LS ~15 min.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from psfl.config import load_config
from psfl.phy.digital.calibration import (
    SHIPPED_DIR,
    _stem,
    measure_table,
    table_key,
    write_table,
)


def main(argv: list[str] | None = None) -> Path:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", help="TOML configuration whose [phy] section is used")
    p.add_argument("--set", action="append", default=[], metavar="phy.KEY=VALUE",
                   help="override a [phy] setting (repeatable)")
    p.add_argument("--k", type=int, default=0,
                   help="channel uses per image (0: from data.patch_size and semantic.k_over_n)")
    p.add_argument("--num-blocks", type=int, default=None, help="blocks per SNR point")
    p.add_argument("--resolution-db", type=float, default=None, help="bisection resolution")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=SHIPPED_DIR, help="folder to write the table to")
    args = p.parse_args(argv)

    from psfl.semantic.power import k_from_ratio

    config = load_config(args.config, args.set)
    k = args.k or config.semantic.k or k_from_ratio(config.data.patch_size,
                                                    config.semantic.k_over_n)
    path = args.out / f"{_stem(table_key(config.phy, k))}.json"
    command = "python -m benchmarks.mcs_thresholds " + shlex.join(argv or sys.argv[1:])
    record = measure_table(config.phy, k, num_blocks=args.num_blocks,
                           resolution_db=args.resolution_db, seed=args.seed, command=command)
    write_table(path, record)
    print(f"{path}: {record['wall_s']} s")
    for i, v in record["thresholds_db"].items():
        raw = record["measured_db"][i]
        print(f"MCS {int(i):2d}: {v} dB" + ("" if raw == v else f" (measured {raw})"))
    return path


if __name__ == "__main__":
    main()
