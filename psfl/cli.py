"""The ``psfl`` command line.

Each subcommand lives in ``psfl/commands/<name>.py`` and provides ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args, config, run_dir) -> dict`` (the summary), and may
provide ``overrides(args) -> list[str]`` (its shortcut options as ``--set`` overrides). A
command that makes no run (``psfl config`` prints, ``psfl deploy-keys`` writes a lab's keys)
provides ``show(args) -> int`` instead of ``run`` and gets none of what follows: no run
directory, no TensorFlow (:func:`_show`). This module only
wires them together: it loads the configuration (``--config``, ``--set``), seeds the run,
creates the output directory (owned by this process while it runs), writes ``run.json`` (the
command), ``config.toml`` and ``summary.json`` (with the seed, the command line and
:func:`psfl.provenance.environment`), and turns user errors into one line on stderr with exit
code 2. ``--resume DIR`` is accepted only for a run of the same command whose configuration it
keeps (:func:`_resume`). SIGINT and SIGTERM end every command the same way: finished work kept,
one line, exit code 130; the process then leaves without the interpreter's finalization
(:func:`entry`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from psfl.config import Config
    from psfl.results import RunDir

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
    "config": "psfl.commands.config",
    "deploy-keys": "psfl.commands.deploy_keys",
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
        if hasattr(mod, "run"):  # a command that writes a run; one that only prints has none
            _add_common(p)
        mod.add_arguments(p)
    return parser


def _resume(command: str, directory: str, args: argparse.Namespace,
            overrides: list[str]) -> None:
    """Check that ``directory`` is a run of ``command`` and that the configuration asked for
    now is the one it was started with (keys that may change between the parts of one run
    aside); point ``args`` at it."""
    from psfl.config import load_config
    from psfl.federation.checkpoint import MAY_CHANGE, config_changes

    path = Path(directory)
    saved = path / "config.toml"
    if not saved.is_file():
        raise FileNotFoundError(f"--resume {directory}: no config.toml there; pass the "
                                "output directory of an earlier run")
    owner = None
    for name in ("run.json", "summary.json"):
        try:
            owner = json.loads((path / name).read_text()).get("command")
            break
        except (OSError, ValueError, AttributeError):
            continue
    if owner != command:
        raise ValueError(f"--resume {directory}: that is "
                         f"{f'a run of psfl {owner}' if owner else 'not a psfl run'}, not of "
                         f"psfl {command}; nothing there is changed")
    original = load_config(saved)
    asked = load_config(args.config or saved, overrides)
    changed = config_changes(original.to_dict(), asked.to_dict())
    if changed:
        raise ValueError(f"--resume {directory}: the run was started with another "
                         f"configuration ({'; '.join(changed)}); resume it as it was (only "
                         f"{MAY_CHANGE} may change) or start a new run with another --out")
    args.config, args.out = str(args.config or saved), str(directory)


def _show(mod: ModuleType, args: argparse.Namespace, prog: str) -> int:
    """Run a command that only prints (``mod.show``): no run directory, no TensorFlow; a user
    error is one line on stderr and exit code 2."""
    from psfl.errors import PsflError

    try:
        return mod.show(args)
    except PsflError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM ends a run as Ctrl-C does: finished work kept


def _overrides(args: argparse.Namespace, mod: ModuleType) -> list[str]:
    """The ``--set`` overrides with every shortcut added: ``--seed``, the command's own, and
    ``--out``; ``--resume`` is checked (and points ``args`` at its run) before ``--out`` joins."""
    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"run.seed={args.seed}")
    if hasattr(mod, "overrides"):  # a command's own shortcuts for --set
        overrides += mod.overrides(args)
    resume = getattr(args, "resume", None)
    if resume:
        _resume(args.command, resume, args, overrides)
    if args.out:
        overrides.append(f"run.out={args.out!r}")
    return overrides


def _execute(mod: ModuleType, args: argparse.Namespace, config: Config, run_dir: RunDir,
             prog: str, argv: list[str]) -> None:
    """Record the command and its configuration in ``run_dir``, seed, run the command and write
    its summary (with the seed, the command line and the provenance)."""
    run_dir.write_json("run.json", {"command": args.command, "argv": argv})
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    argv = list(argv) if argv is not None else sys.argv[1:]
    if not args.command:
        parser.print_help()
        return 2
    mod = importlib.import_module(COMMANDS[args.command])
    prog = f"psfl {args.command}"
    if not hasattr(mod, "run"):
        return _show(mod, args, prog)
    from psfl.config import load_config
    from psfl.errors import PsflError
    from psfl.results import RunDir, default_out_dir

    run_dir = None
    # only the main thread may set handlers (tests call main() from others)
    in_main = threading.current_thread() is threading.main_thread()
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)} if in_main else {}
    try:
        # SIGINT too: a process started with SIGINT ignored (a background job of a script,
        # some supervisors) would otherwise run on after Ctrl-C or `kill -INT`
        for s in previous:
            signal.signal(s, _interrupt)
        overrides = _overrides(args, mod)  # first: --resume points args.config at its run
        config = load_config(args.config, overrides)
        # Only now: a refused configuration is reported without waiting for TensorFlow.
        from psfl._quiet import quiet_tensorflow

        quiet_tensorflow()
        out = config.run.out or str(default_out_dir(args.command))
        run_dir = RunDir(out, prog)
        _execute(mod, args, config, run_dir, prog, argv)
        print(f"results written to {run_dir.path}/")
        return 0
    except (PsflError, ValueError, FileNotFoundError, ConnectionError) as exc:
        msg = str(exc) or exc.__class__.__name__
        if run_dir is not None:
            run_dir.log(f"error: {msg}")
            run_dir.restore_previous()
        print(f"{prog}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        where = run_dir.path if run_dir else "-"
        msg = str(exc) or f"interrupted; results written so far are kept in {where}"
        if run_dir is not None:
            run_dir.log(msg)
        print(f"{prog}: {msg}", file=sys.stderr)
        return 130
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if run_dir is not None:
            run_dir.close()


def entry() -> None:
    """The ``psfl`` executable: :func:`main`'s exit code. After an interrupt the process leaves
    at once (``os._exit``) once its streams are flushed: TensorFlow's, Ray's and gRPC's threads
    may still be inside a call when the signal lands, and finalizing the interpreter around them
    crashed with SIGSEGV after the run had been saved and reported (seen once in CI)."""
    code = main()
    if code == 130:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
