"""``psfl compare RUN [RUN …]`` — earlier runs side by side: one table, one plot.

Reads each run directory's ``summary.json`` (any command) and takes its *headline figures*:
every numeric value, at the top level or one level down (``federation.final_global_psnr``),
whose name says it is a quality, energy, delivery, error or time figure (see
:data:`HEADLINE`), plus, for runs with a link sweep (``psfl link``, ``psfl demo``), the codec's
and the digital baseline's PSNR at each SNR (``psnr@10dB``, ``digital_psnr@10dB``). The table
has one row per run and one column per figure that any run has (blank where a run lacks it),
printed and written as ``compare.csv``, with each run's command, seed, channel and commit.

The plot ``compare.png``: if any run has a link sweep, PSNR against SNR, one colour per run,
the codec solid and the digital baseline dashed; otherwise one bar panel per headline figure
that every run has (at most six).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from psfl.config import Config
from psfl.results import RunDir

HELP = "Put earlier runs side by side: one table and one plot of their headline figures."

#: Names (last component) that count as headline figures.
HEADLINE = re.compile(r"(psnr|ssim|energy|_j$|success|delivered|saved|evm|ber$|seconds|bits)")

_SKIP = ("provenance", "cost", "argv", "config")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN",
                        help="run directories written by psfl (each holds a summary.json)")


def read_summary(path: str | Path) -> dict[str, Any]:
    """The ``summary.json`` of a run directory; one clear error if it cannot be read."""
    p = Path(path)
    target = p / "summary.json" if p.is_dir() else p
    if not target.is_file():
        raise ValueError(f"{str(path)!r} is not a psfl run: no summary.json there; pass "
                         "directories written by a psfl command (--out DIR)")
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{str(target)!r} cannot be read as JSON ({exc}); the run may be "
                         "unfinished or the file damaged: re-run it") from None
    if not isinstance(data, dict):
        raise ValueError(f"{str(target)!r} is not a psfl summary (not a JSON object)")
    return data


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def sweep(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The link-sweep rows of a summary (``psfl link``'s ``results``, ``psfl demo``'s ``link``),
    each with ``snr_db`` and ``codec_psnr``; empty if it has none."""
    for key in ("results", "link"):
        rows = summary.get(key)
        if isinstance(rows, list) and rows and all(
                isinstance(r, dict) and "snr_db" in r and "codec_psnr" in r for r in rows):
            return rows
    return []


def headline(summary: dict[str, Any]) -> dict[str, float]:
    """Headline figures of one summary (rule in the module docstring), in first-seen order."""
    out: dict[str, float] = {}
    for key, value in summary.items():
        if key in _SKIP:
            continue
        if _is_number(value) and HEADLINE.search(key):
            out[key] = float(value)
        elif isinstance(value, dict):
            for sub, v in value.items():
                if _is_number(v) and HEADLINE.search(sub):
                    out[f"{key}.{sub}"] = float(v)
    rows = sweep(summary)
    datasets = list(dict.fromkeys(r.get("dataset", "test") for r in rows))
    for r in rows:
        tag = f"@{r['snr_db']:g}dB" + ("" if len(datasets) == 1 else f"[{r.get('dataset')}]")
        for col, name in (("codec_psnr", "psnr"), ("digital_psnr", "digital_psnr")):
            if _is_number(r.get(col)):
                out[name + tag] = float(r[col])
    return out


def run(args: argparse.Namespace, config: Config, run_dir: RunDir) -> dict[str, Any]:
    summaries = [read_summary(p) for p in args.runs]  # every target checked before any work
    import matplotlib

    matplotlib.use("Agg")

    from psfl.plotting import caption, subplots

    names = [Path(p).name or str(p) for p in args.runs]
    if len(set(names)) < len(names):
        names = [str(p) for p in args.runs]
    figures = [headline(s) for s in summaries]
    columns = list(dict.fromkeys(k for f in figures for k in f))
    rows = []
    for name, s, f in zip(names, summaries, figures, strict=True):
        prov = s.get("provenance") or {}
        rows.append({"run": name, "command": s.get("command", "?"), "seed": s.get("seed"),
                     "channel": s.get("channel", ""), "commit": str(prov.get("commit", ""))[:12],
                     **{c: f.get(c) for c in columns}})
    run_dir.write_csv("compare.csv", rows)

    # figures down, runs across: the runs are few, the figures many
    label = max([len(c) for c in columns] + [6])
    cell = max([len(n) for n in names] + [10])
    print(f"{'figure':<{label}}  " + "  ".join(f"{n:>{cell}}" for n in names))
    for key in ("command", "seed", "commit"):
        print(f"{key:<{label}}  " + "  ".join(f"{str(r[key]):>{cell}}" for r in rows))
    for c in columns:
        cells = ["" if r[c] is None else f"{r[c]:.4g}" for r in rows]
        print(f"{c:<{label}}  " + "  ".join(f"{v:>{cell}}" for v in cells))

    swept = [(n, sw) for n, s in zip(names, summaries, strict=True) if (sw := sweep(s))]
    if swept:
        # runs are told apart by colour; the scheme by line style and marker
        fig, ax = subplots(figsize=(6.5, 4))
        for i, (name, sw) in enumerate(swept):
            sel = [r for r in sw if r.get("dataset", "test") == sw[0].get("dataset", "test")]
            snr = [r["snr_db"] for r in sel]
            ax.plot(snr, [r["codec_psnr"] for r in sel], "o-", color=f"C{i}",
                    label=f"{name} (codec)")
            if all(_is_number(r.get("digital_psnr")) for r in sel):
                ax.plot(snr, [r["digital_psnr"] for r in sel], "s--", color=f"C{i}",
                        label=f"{name} (digital)")
        ax.set_xlabel("SNR [dB]")
        ax.set_ylabel("PSNR [dB]")
        ax.legend()
    else:
        shared = [c for c in columns if all(c in f for f in figures)][:6]
        if not shared:
            raise ValueError("the runs share no headline figure to plot; compare runs of the "
                             "same command")
        fig, axes = subplots(1, len(shared), figsize=(2.6 * len(shared) + 0.5, 3.2),
                             squeeze=False)
        for ax, c in zip(axes[0], shared, strict=False):
            ax.bar(range(len(names)), [f[c] for f in figures],
                   color=[f"C{i}" for i in range(len(names))])
            ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=7)
            ax.set_title(c, fontsize=8)
            ax.grid(False, axis="x")
    fig.suptitle(f"{len(names)} runs compared")
    caption(fig, [f"{n}: {r['command']}, seed {r['seed']}, commit {r['commit'] or '?'}"
                  for n, r in zip(names, rows, strict=True)])
    run_dir.save_figure(fig, "compare.png")
    return {"runs": [str(p) for p in args.runs], "figures": columns, "table": rows}
