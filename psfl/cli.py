"""The ``psfl`` command line.

Each subcommand lives in ``psfl/commands/<name>.py`` and provides ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args, config, run_dir) -> dict`` (the summary). This module
only wires them together: it loads the configuration (``--config``, ``--set``), seeds the run,
creates the output directory, writes ``config.toml`` and ``summary.json`` (with the seed, the
command line and :func:`psfl.provenance.environment`), and turns user errors
into one line on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

#: Registered subcommands: name → module. Only commands that work end to end are listed.
COMMANDS: dict[str, str] = {
    "demo": "psfl.commands.demo",
    "train": "psfl.commands.train",
    "link": "psfl.commands.link",
    "hil": "psfl.commands.hil",
    "energy": "psfl.commands.energy",
    "pretrain": "psfl.commands.pretrain",
    "study": "psfl.commands.study",
    "compare": "psfl.commands.compare",
}


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="TOML configuration file (see configs/)")
    p.add_argument("--set", metavar="SECTION.KEY=VALUE", action="append", default=[],
                   dest="overrides", help="override one configuration value (repeatable)")
    p.add_argument("--out", metavar="DIR",
                   help="output directory (default runs/<command>-<timestamp>/)")
    p.add_argument("--seed", type=int, help="shortcut for --set run.seed=N")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="psfl",
        description="Semantic-communication link simulator trained by personalized federated "
                    "learning (Sionna uplink, Keras codecs, Flower federation, SDR in the loop).",
    )
    from psfl import __version__

    parser.add_argument("--version", action="version", version=f"psfl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, modname in COMMANDS.items():
        mod = importlib.import_module(modname)
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        _add_common(p)
        mod.add_arguments(p)
    return parser


def _quiet_tensorflow() -> None:
    """Import TensorFlow with its C++ start-up chatter (CUDA stub probing) kept off the terminal.

    Those lines are written straight to file descriptor 2 before absl logging is configured, so
    environment variables cannot silence them; errors raised by the import itself still surface.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    argv = list(argv) if argv is not None else sys.argv[1:]
    if not args.command:
        parser.print_help()
        return 2
    _quiet_tensorflow()
    from psfl.config import load_config
    from psfl.errors import PsflError
    from psfl.results import RunDir, default_out_dir

    mod = importlib.import_module(COMMANDS[args.command])
    prog = f"psfl {args.command}"
    run_dir = None
    try:
        resume = getattr(args, "resume", None)
        if resume:
            saved = Path(resume) / "config.toml"
            if not saved.is_file():
                raise FileNotFoundError(f"--resume {resume}: no config.toml there; pass the "
                                        "output directory of an earlier run")
            args.config = args.config or str(saved)
            args.out = str(resume)
        overrides = list(args.overrides)
        if args.seed is not None:
            overrides.append(f"run.seed={args.seed}")
        if args.out:
            overrides.append(f"run.out={args.out!r}")
        config = load_config(args.config, overrides)
        out = config.run.out or str(default_out_dir(args.command))
        run_dir = RunDir(out)
        run_dir.write_config(config)
        run_dir.log(f"{prog} started: argv={argv}")
        from psfl.seeding import set_seed

        set_seed(config.run.seed)
        t0 = time.perf_counter()
        summary = mod.run(args, config, run_dir)
        from psfl.provenance import environment

        summary = {"command": args.command, "seconds": round(time.perf_counter() - t0, 2),
                   **(summary or {}), "seed": config.run.seed, "argv": argv,
                   "provenance": environment()}
        run_dir.write_summary(summary)
        run_dir.log(f"{prog} finished in {summary['seconds']} s")
        print(f"results written to {run_dir.path}/")
        return 0
    except (PsflError, ValueError, FileNotFoundError, ConnectionError) as exc:
        msg = str(exc) or exc.__class__.__name__
        if run_dir is not None:
            run_dir.log(f"error: {msg}")
        print(f"{prog}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if run_dir is not None:
            run_dir.log("interrupted")
        print(f"{prog}: interrupted; results written so far are kept in {run_dir.path if run_dir else '-'}",
              file=sys.stderr)
        return 130
    finally:
        if run_dir is not None:
            run_dir.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
