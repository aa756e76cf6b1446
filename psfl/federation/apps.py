"""Flower wiring: a ServerApp (the BS) and a ClientApp (an MU) around :mod:`.roles`.

Nothing here decides anything. The ClientApp hands each message to the MU
(:class:`~psfl.federation.roles.MobileUserClient`, kept per process by :mod:`.cache`); the
ServerApp registers the MUs and starts :class:`~.flower_strategy.BaseStationStrategy`, which
holds the rounds; payloads become records as :mod:`.records` says.

* In-process simulation (the default): :func:`run_flower_simulation` builds both apps around a
  :class:`~psfl.config.Config` and runs them in Flower's simulation engine (Ray backend).
* Across machines: the module-level :data:`server_app` and :data:`client_app` read the run's
  configuration from Flower's run config (keys ``config``: path of a TOML file readable on every
  machine, ``out``: the BS's output directory, ``state``: the MUs' state directory), and each
  SuperNode's ``partition-id`` node config names its MU (see the README).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flwr.app import ArrayRecord, ConfigRecord, Context, Message, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp

from psfl.config import Config, load_config
from psfl.federation.cache import mobile_user
from psfl.federation.checkpoint import RunLayout
from psfl.federation.flower_strategy import (
    BaseStationStrategy,
    RunStopped,
    StoppableGrid,
    register_mus,
)
from psfl.federation.records import read_arrays, reply_content
from psfl.federation.roles import BaseStation, MobileUserClient

__all__ = ["RunStopped", "client_app", "make_client_app", "make_server_app",
           "run_flower_simulation", "serve", "server_app"]

#: How long the BS waits for the MUs to connect, and then for their registration replies: an
#: MU's first message starts its process's TensorFlow and builds its models, which is not part
#: of a round (``federation.round_timeout_s`` bounds the rounds only).
_START_S = 300.0


def _config_from_context(context: Context) -> tuple[Config, Path, Path]:
    rc = context.run_config
    if "config" not in rc:
        raise ValueError("Flower run config lacks 'config' (path of the psfl TOML file); pass "
                         "--run-config \"config='configs/federation.toml'\" to flwr run")
    config = load_config(str(rc["config"]))
    out = Path(str(rc.get("out", "runs/flower")))
    state = Path(str(rc.get("state", RunLayout(out).mu_state)))
    return config, out, state


# ------------------------------------------------------------------------------------ ClientApp


def make_client_app(config: Config | None = None, state_dir: str | Path | None = None,
                    client_cls: type[MobileUserClient] = MobileUserClient) -> ClientApp:
    """A ClientApp for the MUs; ``config=None`` reads it from the Flower run config.
    ``client_cls`` is the MU implementation (a subclass can model a faulty or slow MU)."""
    app = ClientApp()

    def client(context: Context) -> MobileUserClient:
        if config is None:
            cfg, _, state = _config_from_context(context)
        else:
            cfg, state = config, Path(state_dir or RunLayout("runs/flower").mu_state)
        if "partition-id" not in context.node_config:
            raise ValueError("this SuperNode has no partition-id; start it with "
                             "--node-config \"partition-id=0 num-partitions=N\"")
        return mobile_user(client_cls, cfg, int(context.node_config["partition-id"]), state)

    @app.query()
    def register(msg: Message, context: Context) -> Message:
        info = client(context).register()
        return Message(content=RecordDict({"info": ConfigRecord(
            {k: float(v) if isinstance(v, float) else int(v) for k, v in info.items()})}),
            reply_to=msg)

    @app.train()
    def train(msg: Message, context: Context) -> Message:
        out, metrics = client(context).train(read_arrays(msg.content),
                                             dict(msg.content["config"]))
        return Message(content=reply_content(metrics, out), reply_to=msg)

    @app.evaluate()
    def evaluate(msg: Message, context: Context) -> Message:
        metrics = client(context).evaluate(read_arrays(msg.content),
                                           dict(msg.content["config"]))
        return Message(content=reply_content(metrics), reply_to=msg)

    return app


# ------------------------------------------------------------------------------------ ServerApp


def serve(grid: Grid, config: Config, out_dir: Path,
          log: Callable[[str], None] = print,
          on_round: Callable[[dict[str, Any]], None] | None = None,
          stop: threading.Event | None = None) -> BaseStation:
    """The BS's whole run over a Flower Grid (resumes from the run's checkpoint): registration,
    then :class:`~.flower_strategy.BaseStationStrategy` started for the rounds still to do.
    Setting ``stop`` ends it with :class:`RunStopped` within a fraction of a second, recording
    nothing of the round in flight."""
    fed = config.federation
    bs = BaseStation(config, out_dir, log)
    done = bs.restore()
    grid = StoppableGrid(grid, stop)
    infos, node_of, errors = register_mus(grid, config.data.num_mus, _START_S, log)
    if not done:
        if len(infos) < config.data.num_mus:
            why = (f"{len(errors)} failed to start: {errors[0]}" if errors else
                   "start one SuperNode per MU (partition-id 0…N-1)")
            raise ConnectionError(f"only {len(infos)} of {config.data.num_mus} MUs registered; "
                                  f"{why}")
        bs.register(infos)
    strategy = BaseStationStrategy(bs, node_of, on_round)
    if done < fed.rounds:
        strategy.start(grid, ArrayRecord(list(bs.dense)), num_rounds=fed.rounds - done,
                       timeout=fed.round_timeout_s)
    elif not bs.final_rows:
        strategy.evaluate_final(grid, fed.round_timeout_s)
    return bs


def make_server_app(config: Config | None = None, out_dir: str | Path | None = None,
                    log: Callable[[str], None] = print,
                    on_round: Callable[[dict[str, Any]], None] | None = None,
                    result: dict[str, Any] | None = None,
                    stop: threading.Event | None = None) -> ServerApp:
    """A ServerApp for the BS; ``config=None`` reads it from the Flower run config. The finished
    :class:`BaseStation` is stored in ``result["bs"]`` when a dict is given; ``stop`` (see
    :func:`serve`) ends it early."""
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        if config is None:
            cfg, out, _ = _config_from_context(context)
        else:
            cfg, out = config, Path(out_dir or "runs/flower")
        bs = serve(grid, cfg, out, log, on_round, stop)
        if result is not None:
            result["bs"] = bs

    return app


def run_flower_simulation(config: Config, out_dir: str | Path,
                          log: Callable[[str], None] = print,
                          on_round: Callable[[dict[str, Any]], None] | None = None,
                          client_cls: type[MobileUserClient] = MobileUserClient
                          ) -> BaseStation:
    """Run the federation in Flower's in-process simulation (Ray backend, one CPU per MU), with
    ``client_cls`` as the MUs (see :func:`make_client_app`).

    SIGINT and SIGTERM stop it within about a second: the BS stops waiting for the round in
    flight (nothing of it is recorded), Ray is shut down, and ``KeyboardInterrupt`` is raised
    here; every finished round is in the checkpoint. (Ray is started here rather than by Flower
    so that Ray's own SIGTERM handler, which exits the process mid-round, is replaced.)

    Flower's and Ray's INFO lines are muted while it runs (``log`` reports every round; the
    strategy's closing "Final results" block repeated them as raw floats); their warnings and
    errors still show. Under the deployment engine (:func:`serve` from ``flwr-serverapp``)
    Flower's log is left as it is.
    """
    import logging
    import os
    import signal
    import sys
    import warnings

    import ray
    from flwr.simulation.run_simulation import _run_simulation
    from flwr.supercore.telemetry import EventType

    out = Path(out_dir)
    result: dict[str, Any] = {}
    stop = threading.Event()
    server = make_server_app(config, out, log, on_round, result, stop)
    client = make_client_app(config, RunLayout(out).mu_state, client_cls)
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    cpus = os.cpu_count() or 1
    per_mu = max(1, cpus // config.federation.parallel_mus)
    init_args = {"include_dashboard": False, "log_to_driver": False, "num_cpus": cpus}

    flwr_log = logging.getLogger("flwr")
    flwr_level = flwr_log.level
    flwr_log.setLevel(logging.WARNING)

    def interrupt(signum: int, frame: Any) -> None:
        stop.set()  # before any reply the backend's shutdown produces can reach the BS
        # the MUs' actors die with Ray; Flower would print each lost message as a traceback
        flwr_log.setLevel(logging.CRITICAL + 1)
        raise KeyboardInterrupt

    main_thread = threading.current_thread() is threading.main_thread()
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if not ray.is_initialized():  # as Flower's Ray backend would start it
            pythonpath = os.pathsep.join(filter(None, [*sys.path,
                                                       os.environ.get("PYTHONPATH")]))
            with warnings.catch_warnings():
                # a notice about a future default of Ray's, not about this run
                warnings.filterwarnings("ignore", "Tip: In future versions of Ray",
                                        FutureWarning)
                ray.init(runtime_env={"env_vars": {"PYTHONPATH": pythonpath}},
                         logging_level=logging.WARNING, **init_args)
        if main_thread:
            for s in saved:
                signal.signal(s, interrupt)
        # Flower's simulation engine, as its current `flwr run` path runs it (the
        # `flwr-simulation` process calls this function), here in-process and without a
        # SuperLink; the public `run_simulation` wrapper around it is deprecated (flwr 1.42).
        _run_simulation(server_app=server, client_app=client,
                        num_supernodes=config.data.num_mus,
                        backend_config={"client_resources": {"num_cpus": per_mu,
                                                             "num_gpus": 0.0},
                                        "init_args": init_args},
                        exit_event=EventType.PYTHON_API_RUN_SIMULATION_LEAVE)
    except BaseException:
        stop.set()
        raise
    finally:
        if main_thread:
            for s, handler in saved.items():
                signal.signal(s, handler)
        if ray.is_initialized():
            ray.shutdown()
        flwr_log.setLevel(flwr_level)
    if "bs" not in result:
        raise RuntimeError("the Flower simulation ended without finishing the run; see the log "
                           "above")
    return result["bs"]


def _flower_log(message: str) -> None:
    """The BS's log lines through Flower's logger: under the deployment engine ``flwr-serverapp``
    uploads that logger's records to the SuperLink (``flwr log <run-id> <connection>``), while
    its plain stdout is not collected (and may be lost when it exits)."""
    from logging import INFO

    from flwr.common.logger import log

    log(INFO, "%s", message)


def _from_run_config_only() -> tuple[ServerApp, ClientApp]:
    return make_server_app(log=_flower_log), make_client_app()


# (psfl/federation/__init__.py, run before this module, turns Flower's telemetry off.)
server_app, client_app = _from_run_config_only()
