"""Shipped codecs and the main jobs: wall time and peak memory of whole commands.

* ``psfl link`` with a shipped codec on a folder of your own photos (target ≤ 60 s);
* ``psfl demo`` (target ≤ 10 min and ≤ 6 GB peak RSS on 2 idle cores);
* ``psfl study`` (target ≤ 60 min), only with ``--study``;
* pretraining throughput per preset, read from the zoo's provenance (images / training wall time).

Each command runs as its own process under ``/usr/bin/time -v`` (peak RSS of the process tree's
largest member, as the kernel reports it), ``--repeat`` times; medians are printed.

    python -m benchmarks.bench_zoo --photos DIR [--repeat 3] [--skip-demo] [--study]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PSFL = str(Path(sys.executable).with_name("psfl"))


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one process."""
    out = subprocess.run(["/usr/bin/time", "-v", PSFL, *argv], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"psfl {' '.join(argv)} failed:\n{out.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", out.stderr)
    h, m, s = (float(g) if g else 0.0 for g in wall.groups())
    rss = float(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1))
    return 3600 * h + 60 * m + s, rss / 1024


def report(name: str, runs: list[tuple[float, float]]) -> None:
    walls, rss = [w for w, _ in runs], [r for _, r in runs]
    print(f"{name}: wall median {statistics.median(walls):.1f} s (min {min(walls):.1f}, max "
          f"{max(walls):.1f}, n={len(runs)}), peak RSS median {statistics.median(rss):.0f} MB",
          flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", help="folder of photos for psfl link (e.g. 2 photographs)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-demo", action="store_true")
    ap.add_argument("--study", action="store_true")
    ap.add_argument("--quick", action="store_true", help="one run of each, demo --quick")
    args = ap.parse_args(argv)
    repeat = 1 if args.quick else args.repeat

    from psfl.semantic import zoo

    print("pretraining throughput (provenance: images seen / training wall time):")
    for name in zoo.available():
        p = zoo.provenance(name)
        print(f"  {name}: {p['images_seen'] / p['train_wall_s']:.0f} img/s "
              f"({p['steps']} steps x {p['batch_size']}, {p['train_wall_s']:.0f} s, {p['machine']})")
    with tempfile.TemporaryDirectory() as tmp:
        if args.photos:
            runs = [timed(["link", "--checkpoint", "pretrained:csc", "--channel", "rayleigh",
                           "--images", args.photos, "--out", f"{tmp}/link{i}"])
                    for i in range(repeat)]
            report(f"psfl link --checkpoint pretrained:csc --images {args.photos}", runs)
        if not args.skip_demo:
            demo = ["demo", "--quick"] if args.quick else ["demo"]
            report("psfl " + " ".join(demo),
                   [timed([*demo, "--out", f"{tmp}/demo{i}"]) for i in range(repeat)])
        if args.study:
            report("psfl study", [timed(["study", "--out", f"{tmp}/study"])])
    return 0


if __name__ == "__main__":
    sys.exit(main())
