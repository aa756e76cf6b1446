"""Many MUs on one uplink: round time, time per MU-step and peak memory against the number of
MUs, for the bare loop (5, 20, 100, 500 MUs) and Flower's simulation (5, 20, 100) — issue 25,
item 4.

    .venv/bin/python -m benchmarks.bench_scale [--mus 5 20 100 500] [--engines loop flower]
        [--flower-max 100] [--local-steps 4] [--strategy fedavg-csc] [--out DIR] [--quick]

Setup (tiny, so that 500 MUs fit in minutes): the embedded data split iid (``data.partition``:
the default Dirichlet split cannot give 500 MUs two of the 1 625 training patches each), the
CSC student alone (``fedavg-csc``), 4 rounds of ``--local-steps`` (4) steps of batch 4 and 16
evaluation images per MU; the round time is the median of rounds 2–4 (the first traces the
student and the link, and is reported apart). Time per MU-step = round time / (N × local
steps).

Each (engine, N) runs in a process of its own, so that each peak is its own: this process
samples the resident memory of that process and of all its descendants (Ray's workers) every
0.2 s (psutil) and keeps the largest sum — an upper bound, since pages shared between processes
count once per process; the run's own process reports its ``ru_maxrss`` beside it. Progress
lines come from the runs as they go. Writes ``scale.csv`` and ``scale.json`` into ``--out``
(default ``runs/bench-scale-<time>/``) and ``scale_round_time_memory.{png,pdf}`` there and into
``--figures`` (default ``benchmarks/figures/``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

MUS = (5, 20, 100, 500)
ENGINES = ("loop", "flower")
#: Targets of issue 25, item 4.
LINEAR_TOLERANCE = 0.20
PEAK_TARGET_GIB = 8.0
RESULT = "RESULT "


# ------------------------------------------------------------------------------- one run (child)


def _config(args: argparse.Namespace, engine: str, mus: int):
    from psfl.config import load_config

    return load_config(None, [
        f"federation.strategy={args.strategy}", f"federation.backend={engine}",
        f"federation.rounds={args.rounds}", f"data.num_mus={mus}",
        f"data.partition={args.partition}", f"federation.local_steps={args.local_steps}",
        f"federation.mentor_steps={args.mentor_steps}",
        f"federation.eval_images={args.eval_images}", f"semantic.batch_size={args.batch_size}"])


def _progress_client(every: int):
    """A :class:`~psfl.federation.roles.MobileUserClient` that prints a line every ``every``
    MUs trained (the bare loop; Flower's workers print nothing)."""
    from psfl.federation.roles import MobileUserClient

    class ProgressMU(MobileUserClient):
        done = 0
        started = time.perf_counter()

        def train(self, arrays, cfg):
            out = super().train(arrays, cfg)
            ProgressMU.done += 1
            if self.mu == self.config.data.num_mus - 1 or (self.mu + 1) % every == 0:
                print(f"round {cfg['round']}: {self.mu + 1}/{self.config.data.num_mus} MUs "
                      f"trained, {time.perf_counter() - ProgressMU.started:.0f} s since start",
                      flush=True)
            return out

    return ProgressMU


def _on_disk(root: Path) -> dict[str, Any]:
    """What the MUs keep on disk under ``root``: MU folders, files, bytes."""
    files = [p for p in root.rglob("*") if p.is_file()]
    return {"mu_dirs": sum(1 for p in root.glob("mu*") if p.is_dir()), "state_files": len(files),
            "state_bytes": sum(p.stat().st_size for p in files)}


def run_once(args: argparse.Namespace, engine: str, mus: int) -> dict[str, Any]:
    """One run of ``engine`` with ``mus`` MUs in this process: its timings and state on disk."""
    import resource

    from psfl.federation.checkpoint import RunLayout

    config = _config(args, engine, mus)
    out = Path(tempfile.mkdtemp(prefix=f"bench-scale-{engine}-{mus}-"))
    ends: list[float] = []

    def on_round(s: dict[str, Any]) -> None:
        ends.append(time.perf_counter())
        print(f"round {s['round']} done: {s['round_s']:.1f} s ({s['accepted']} updates)",
              flush=True)

    t0 = time.perf_counter()
    if engine == "loop":
        from psfl.federation.loop import run_loop

        bs = run_loop(config, out, log=lambda m: None, progress=on_round,
                      client_cls=_progress_client(max(1, mus // 5)))
    else:
        from psfl.federation.apps import run_flower_simulation

        bs = run_flower_simulation(config, out, log=lambda m: None, on_round=on_round)
    wall = time.perf_counter() - t0
    rows = bs.round_rows
    timed = rows[1:] or rows
    round_s = statistics.median(r["round_s"] for r in timed)
    mu_train_s = statistics.median(r["mu_train_s"] for r in timed)
    return {"engine": engine, "mus": mus, "rounds": len(rows),
            "local_steps": config.federation.local_steps,
            "setup_s": ends[0] - rows[0]["round_s"] - t0, "round1_s": rows[0]["round_s"],
            "round_s": round_s, "mu_train_s": mu_train_s, "rest_s": round_s - mu_train_s,
            "rounds_s": " / ".join(f"{r['round_s']:.2f}" for r in rows),
            "per_mu_s": round_s / mus,
            "per_mu_step_ms": 1e3 * round_s / (mus * config.federation.local_steps),
            "final_eval_s": t0 + wall - ends[-1], "wall_s": wall,
            "self_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            **_on_disk(RunLayout(out).mu_state)}


def child(args: argparse.Namespace) -> int:
    engine, mus = args.child[0], int(args.child[1])
    row = run_once(args, engine, mus)
    print(RESULT + json.dumps(row), flush=True)
    return 0


# ------------------------------------------------------------------------------ driver (parent)


def _tree_rss(proc: Any) -> int:
    """Resident bytes of ``proc`` and all its descendants (0 for those that just ended)."""
    import psutil

    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def _child_argv(args: argparse.Namespace, engine: str, mus: int) -> list[str]:
    return [sys.executable, "-m", "benchmarks.bench_scale", "--child", engine, str(mus),
            "--local-steps", str(args.local_steps), "--mentor-steps", str(args.mentor_steps),
            "--rounds", str(args.rounds), "--eval-images", str(args.eval_images),
            "--batch-size", str(args.batch_size), "--partition", args.partition,
            "--strategy", args.strategy]


def measure(args: argparse.Namespace, engine: str, mus: int) -> dict[str, Any]:
    """One (engine, N) in a process of its own: its row, with the peak memory of its process
    tree and the load average before and after (``error`` set when it failed)."""
    import psutil

    tag = f"[{engine} {mus}]"
    print(f"{tag} starting", flush=True)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PSFL_PROGRESS": "0",
           "PYTHONUNBUFFERED": "1"}
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(_child_argv(args, engine, mus), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    lines: list[str] = []

    def read() -> None:
        for line in proc.stdout:
            lines.append(line.rstrip())
            if not line.startswith(RESULT) and not line.startswith("WARNING"):
                print(f"{tag} {line.rstrip()}", flush=True)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    ps, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(ps))
        if args.timeout and time.perf_counter() - t0 > args.timeout:
            proc.kill()
        time.sleep(0.2)
    reader.join(timeout=10)
    found = [json.loads(s[len(RESULT):]) for s in lines if s.startswith(RESULT)]
    row = found[-1] if found else {"engine": engine, "mus": mus,
                                   "error": (lines or ["no output"])[-1][-300:]}
    row.update(peak_mib=peak / 2**20, load_before=load0, load_after=os.getloadavg()[0],
               process_s=time.perf_counter() - t0)
    print(f"{tag} {'failed: ' + row['error'] if 'error' in row else 'done'} in "
          f"{row['process_s']:.0f} s, peak {row['peak_mib']:.0f} MiB", flush=True)
    return row


def ratios(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per engine: time per MU-step at the largest N over the smallest (and at 100 over 5 when
    both ran), and the peak memory at 100 MUs."""
    out: dict[str, dict[str, float]] = {}
    for engine in ENGINES:
        ok = {r["mus"]: r for r in rows if r["engine"] == engine and "error" not in r}
        if len(ok) < 2:
            continue
        lo, hi = min(ok), max(ok)
        got = {f"step_{hi}_over_{lo}": ok[hi]["per_mu_step_ms"] / ok[lo]["per_mu_step_ms"]}
        if 5 in ok and 100 in ok:
            got["step_100_over_5"] = ok[100]["per_mu_step_ms"] / ok[5]["per_mu_step_ms"]
            got["peak_gib_100"] = ok[100]["peak_mib"] / 1024
        out[engine] = got
    return out


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table."""
    head = ("| engine | MUs | setup s | round 1 s | round s (MUs + rest) | per MU s | "
            "per MU-step ms | final eval s | peak MiB (tree) | peak MiB (own) | state on disk "
            "| load |")
    lines = [head, "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['engine']} | {r['mus']} | failed: {r['error']} |")
            continue
        lines.append(
            f"| {r['engine']} | {r['mus']} | {r['setup_s']:.1f} | {r['round1_s']:.1f} | "
            f"{r['round_s']:.1f} ({r['mu_train_s']:.1f} + {r['rest_s']:.1f}) | "
            f"{r['per_mu_s']:.2f} | {r['per_mu_step_ms']:.0f} | {r['final_eval_s']:.1f} | "
            f"{r['peak_mib']:.0f} | {r['self_peak_mib']:.0f} | {r['mu_dirs']} dirs, "
            f"{r['state_files']} files, {r['state_bytes'] / 2**10:.0f} KiB | "
            f"{r['load_before']:.1f} → {r['load_after']:.1f} |")
    return "\n".join(lines)


def figure(rows: list[dict[str, Any]], caption_text: str) -> Any:
    """Round time (timed round) and peak memory against N, log-x, one line per engine, with
    linear growth from the smallest N and the memory target drawn in."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import ticker

    from psfl.plotting import caption, color, subplots

    fig, (ax_t, ax_m) = subplots(1, 2, figsize=(8.0, 3.2))
    for engine in ENGINES:
        colour = color(engine)
        ok = sorted((r for r in rows if r["engine"] == engine and "error" not in r),
                    key=lambda r: r["mus"])
        if not ok:
            continue
        n = [r["mus"] for r in ok]
        ax_t.plot(n, [r["round_s"] for r in ok], "o-", color=colour, label=engine)
        ax_t.plot(n, [ok[0]["round_s"] * k / n[0] for k in n], ":", color=colour,
                  label=f"{engine}: linear from {n[0]} MUs")
        ax_m.plot(n, [r["peak_mib"] / 1024 for r in ok], "o-", color=colour, label=engine)
    ax_m.axhline(PEAK_TARGET_GIB, color="0.3", ls="--", lw=1, label="target at 100 MUs")
    mus = sorted({r["mus"] for r in rows})
    for ax, label in ((ax_t, "round time [s]"), (ax_m, "peak resident memory [GiB]")):
        ax.set_xscale("log")
        ax.set_xticks(mus)
        ax.xaxis.set_major_formatter(ticker.ScalarFormatter())
        ax.xaxis.set_minor_locator(ticker.NullLocator())
        ax.set_xlabel("MUs")
        ax.set_ylabel(label)
        ax.legend()
    ax_t.set_yscale("log")
    ax_m.set_ylim(bottom=0)
    caption(fig, caption_text)
    return fig


def machine() -> dict[str, Any]:
    """Cores, CPU model, date and load when the run ended."""
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": model, "date": time.strftime("%Y-%m-%d %H:%M"),
            "load": os.getloadavg()}


def write(args: argparse.Namespace, rows: list[dict[str, Any]]) -> Path:
    """scale.csv, scale.json and the figure into --out; the figure into --figures too."""
    from psfl.plotting import save
    from psfl.results import RunDir, atomic_write_bytes, default_out_dir

    run = RunDir(args.out or default_out_dir("bench-scale"), command="bench_scale")
    run.write_csv("scale.csv", rows)
    run.write_json("scale.json", {"machine": machine(), "settings": vars(args), "rows": rows,
                                  "ratios": ratios(rows)})
    text = (f"{args.strategy}, embedded data split {args.partition}, {args.local_steps} local "
            f"steps of batch {args.batch_size}, {args.eval_images} evaluation images per MU; "
            f"median of rounds 2–{args.rounds}; {machine()['cores']} cores")
    figures = Path(args.figures)
    figures.mkdir(parents=True, exist_ok=True)
    for target in (run.path, figures):
        save(figure(rows, text), "scale_round_time_memory",
             lambda name, data, t=target: atomic_write_bytes(t / name, data))
    run.close()
    return run.path


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mus", type=int, nargs="+", default=list(MUS), help="numbers of MUs")
    p.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    p.add_argument("--flower-max", type=int, default=100,
                   help="Flower's simulation only up to this many MUs")
    p.add_argument("--local-steps", type=int, default=4)
    p.add_argument("--mentor-steps", type=int, default=1, help="for --strategy psfl")
    p.add_argument("--rounds", type=int, default=4,
                   help="rounds per run; the median of rounds 2 and later is the round time")
    p.add_argument("--eval-images", type=int, default=16)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--partition", choices=("iid", "dirichlet"), default="iid")
    p.add_argument("--strategy", default="fedavg-csc")
    p.add_argument("--timeout", type=float, default=0.0,
                   help="kill a run after this many seconds (0: never)")
    p.add_argument("--out", default="", help="results folder (default runs/bench-scale-<time>)")
    p.add_argument("--figures", default=str(Path(__file__).parent / "figures"))
    p.add_argument("--quick", action="store_true", help="5 and 20 MUs only")
    p.add_argument("--child", nargs=2, metavar=("ENGINE", "MUS"), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.child:
        return child(args)
    if args.quick:
        args.mus = [n for n in args.mus if n <= 20] or [5, 20]
    rows = [measure(args, engine, n) for engine in args.engines for n in sorted(args.mus)
            if engine == "loop" or n <= args.flower_max]
    print()
    print(table(rows))
    for engine, got in ratios(rows).items():
        text = ", ".join(f"{k} {v:.2f}" for k, v in got.items())
        print(f"{engine}: {text}")
    print(f"results in {write(args, rows)}")
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
