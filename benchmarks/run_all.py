"""`make bench`: every benchmark in turn with its default settings (pass --quick for a smoke run).

Each benchmark prints its figures and appends nothing by itself: copy the figures you want to keep
into benchmarks/RESULTS.md with the machine and the date.
"""

from __future__ import annotations

import importlib
import sys
import time

BENCHMARKS = ("bench_phy_link", "bench_digital", "bench_semantic", "bench_hil",
              "bench_federation", "bench_scale", "bench_zoo")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    failed = []
    for name in BENCHMARKS:
        print(f"\n=== {name} ===", flush=True)
        t0 = time.perf_counter()
        mod = importlib.import_module(f"benchmarks.{name}")
        try:
            rc = mod.main(argv)
        except SystemExit as exc:  # argparse-style mains
            rc = exc.code
        code = rc if isinstance(rc, int) else 0  # some mains return their figures
        print(f"=== {name}: {time.perf_counter() - t0:.0f} s, exit {code} ===", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
