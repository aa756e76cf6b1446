"""When does PLD help? Its variants and the conditions it runs under, each against psfl-no-pld.

    python -m benchmarks.pld_sweep [--out runs/pld-sweep] [--only NAME,…] [--table-only]

Every entry is one ``psfl study`` (the study's budget: 5 MUs, 4 rounds × 32 local steps) into
``OUT/<name>``; finished runs are kept, so the sweep resumes where it stopped. A *variant*
changes only the distillation (``federation.distill*``), which the no-PLD arm does not read:
it runs the psfl arm alone and is paired, seed by seed, with the reference's psfl-no-pld. A
*condition* changes the data (MU data size, non-IID degree) and runs both arms. The mentor's
margin is the third condition: it is not set but measured per MU-round (``mentor_gain_db``),
so the reference's per-MU gains of PLD are correlated with their mentors' margins.

Writes ``OUT/pld_sweep.csv`` (per entry: personalized and global PSNR, psfl − psfl-no-pld,
mean ± 95 % CI paired by seed, and the mentors' mean margin) and ``OUT/pld_sweep.png``/``.pdf``
(the personalized differences with their intervals).
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from pathlib import Path

import numpy as np

#: name → (what it changes, seeds, --set overrides, "variant" or "condition")
SWEEP: dict[str, tuple[str, int, list[str], str]] = {
    "reference": ("PLD round-gate, λ = 0.5 (the default)", 5, [], "condition"),
    "per-image": ("per-image teacher term", 5, ["federation.distill=per-image"], "variant"),
    "lambda-0.8": ("λ = 0.8", 5, ["federation.distill_lambda=0.8"], "variant"),
    "lambda-0.2": ("λ = 0.2", 5, ["federation.distill_lambda=0.2"], "variant"),
    "feature-0.001": ("+ attention transfer, β = 0.001", 5,
                      ["federation.distill=feature", "federation.distill_feature_weight=0.001"],
                      "variant"),
    "feature-0.01": ("+ attention transfer, β = 0.01", 5, ["federation.distill=feature"],
                     "variant"),
    "feature-0.1": ("+ attention transfer, β = 0.1", 5,
                    ["federation.distill=feature", "federation.distill_feature_weight=0.1"],
                    "variant"),
    "small-data": ("100 training images in all (~20 per MU)", 3, ["data.max_train=100"],
                   "condition"),
    "tiny-data": ("30 training images in all (~6 per MU)", 3, ["data.max_train=30"],
                  "condition"),
    "non-iid-0.1": ("Dirichlet α = 0.1 (strongly non-IID)", 3, ["data.alpha=0.1"], "condition"),
    "iid": ("IID split", 3, ["data.partition=iid"], "condition"),
}


def run_entry(out: Path, name: str) -> None:
    _, seeds, sets, kind = SWEEP[name]
    arms = "psfl" if kind == "variant" else "psfl,psfl-no-pld"
    cmd = [str(Path(sys.executable).with_name("psfl")), "study", "--seeds", str(seeds),
           "--strategies", arms, "--out", str(out / name)]
    for s in sets:
        cmd += ["--set", s]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def _runs(directory: Path) -> dict[tuple[str, int], dict[str, float]]:
    with open(directory / "runs.csv", newline="") as fh:
        return {(r["strategy"], int(r["seed"])): {k: float(v) for k, v in r.items()
                                                   if k not in ("strategy", "seed")}
                for r in csv.DictReader(fh)}


def _mu_rows(directory: Path, strategy: str, seed: int) -> list[dict[str, str]]:
    with open(directory / "runs" / f"{strategy}-s{seed}" / "mu_rounds.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def table(out: Path, names: list[str]) -> list[dict[str, object]]:
    """One row per finished entry: psfl − psfl-no-pld, paired by seed."""
    from psfl.federation.study import paired_ci

    ref = _runs(out / "reference")
    rows = []
    for name in names:
        what, _, sets, kind = SWEEP[name]
        if not (out / name / "runs.csv").is_file():
            continue
        mine = _runs(out / name)
        base = ref if kind == "variant" else mine
        seeds = sorted(s for (arm, s) in mine if arm == "psfl" and ("psfl-no-pld", s) in base)
        row: dict[str, object] = {"entry": name, "changes": what, "set": " ".join(sets),
                                  "seeds": len(seeds)}
        for key, col in (("personal_psnr", "personal"), ("final_global_psnr", "global")):
            ci = paired_ci({s: mine[("psfl", s)][key] for s in seeds},
                           {s: base[("psfl-no-pld", s)][key] for s in seeds})
            row[f"{col}_delta_db"], row[f"{col}_ci95_db"] = ci["mean"], ci["half"]
        gains = [float(r["mentor_gain_db"]) for s in seeds
                 for r in _mu_rows(out / name, "psfl", s) if r.get("mentor_gain_db")]
        row["mentor_margin_db"] = float(np.mean(gains)) if gains else float("nan")
        rows.append(row)
    return rows


def margin_correlation(out: Path) -> dict[str, float]:
    """Per MU and seed of the reference: PLD's personalized gain (last round) against the mean
    margin of that MU's mentor over the rounds; Pearson's r and its p-value."""
    from scipy import stats

    ref = out / "reference"
    seeds = sorted(s for (arm, s) in _runs(ref) if arm == "psfl")
    margin, gain = [], []
    for s in seeds:
        a, b = _mu_rows(ref, "psfl", s), _mu_rows(ref, "psfl-no-pld", s)
        last = max(int(r["round"]) for r in a)
        for mu in sorted({int(r["mu"]) for r in a}):
            margin.append(np.mean([float(r["mentor_gain_db"]) for r in a if int(r["mu"]) == mu]))
            pa, pb = ([float(r["personal_psnr"]) for r in rows
                       if int(r["mu"]) == mu and int(r["round"]) == last][0] for rows in (a, b))
            gain.append(pa - pb)
    r = stats.pearsonr(margin, gain)
    return {"pairs": len(gain), "pearson_r": float(r.statistic), "p_value": float(r.pvalue),
            "margin_min_db": float(np.min(margin)), "margin_max_db": float(np.max(margin))}


def figure(out: Path, rows: list[dict[str, object]]) -> list[str]:
    from psfl import plotting

    fig, ax = plotting.subplots(figsize=(8.5, 0.35 * len(rows) + 1.4))
    y = np.arange(len(rows))[::-1]
    for yi, r in zip(y, rows, strict=True):
        colour = ("0.1" if r["entry"] == "reference" else
                  "tab:blue" if SWEEP[str(r["entry"])][3] == "variant" else "tab:orange")
        ax.errorbar(r["personal_delta_db"], yi, xerr=r["personal_ci95_db"], fmt="o",
                    color=colour, capsize=3)
        ax.annotate(f"mentor +{r['mentor_margin_db']:.1f} dB", (1.01, yi),
                    xycoords=("axes fraction", "data"), va="center", fontsize=7, color="0.3")
    ax.axvline(0.0, color="0.3", lw=0.8)
    ax.set_yticks(y, [f"{r['changes']} ({r['seeds']} seeds)" for r in rows])
    ax.set_xlabel("personalized PSNR, psfl − psfl-no-pld [dB] (mean, 95 % CI paired by seed)")
    ax.set_title("PLD against no PLD: the default (black), variants (blue, paired with the "
                 "default's no-PLD arm)\nand conditions (orange, both arms); right: the mentors' "
                 "mean margin over the student")
    plotting.caption(fig, "psfl study budget: 5 MUs, 4 rounds × 32 local steps, batch 16; "
                          "shipped zoo; AWGN")
    return plotting.save(fig, str(out / "pld_sweep"), lambda n, d: Path(n).write_bytes(d))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="runs/pld-sweep", help="directory of the entries' studies")
    p.add_argument("--only", help=f"comma-separated entries of {', '.join(SWEEP)}")
    p.add_argument("--table-only", action="store_true", help="run nothing; tabulate what ran")
    a = p.parse_args(argv)
    names = [n.strip() for n in a.only.split(",")] if a.only else list(SWEEP)
    bad = [n for n in names if n not in SWEEP]
    if bad:
        p.error(f"unknown entries {bad}; choose from {', '.join(SWEEP)}")
    out = Path(a.out)
    if not a.table_only:
        for name in dict.fromkeys(["reference", *names]):
            run_entry(out, name)
    rows = table(out, list(SWEEP))
    if not rows:
        p.error(f"no finished entry under {out}")
    with open(out / "pld_sweep.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    for r in rows:
        print(f"{r['entry']:>13}  personalized {r['personal_delta_db']:+.2f} ± "
              f"{r['personal_ci95_db']:.2f} dB  global {r['global_delta_db']:+.2f} ± "
              f"{r['global_ci95_db']:.2f} dB  margin {r['mentor_margin_db']:+.2f} dB  "
              f"({r['seeds']} seeds)")
    c = margin_correlation(out)
    print(f"reference, per MU: PLD's gain against its mentor's margin ({c['margin_min_db']:.1f}"
          f"…{c['margin_max_db']:.1f} dB): r = {c['pearson_r']:+.2f} (p = {c['p_value']:.2f}, "
          f"{c['pairs']} MU×seed)")
    print("figure:", ", ".join(figure(out, rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
