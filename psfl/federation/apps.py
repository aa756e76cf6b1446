"""Flower wiring: a ServerApp (the BS) and a ClientApp (an MU) around :mod:`.core`.

Nothing here decides anything: the apps turn :class:`~psfl.federation.core.BaseStation` and
:class:`~psfl.federation.core.MobileUserClient` payloads into Flower Messages and back.

* In-process simulation (the default): :func:`run_flower_simulation` builds both apps around a
  :class:`~psfl.config.Config` and runs them with ``flwr.simulation.run_simulation``.
* Across machines: the module-level :data:`server_app` and :data:`client_app` read the run's
  configuration from Flower's run config (keys ``config``: path of a TOML file readable on every
  machine, ``out``: the BS's output directory, ``state``: the MUs' state directory), and each
  SuperNode's ``partition-id`` node config names its MU (see the README).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from flwr.app import (
    ArrayRecord,
    ConfigRecord,
    Context,
    Message,
    MessageType,
    MetricRecord,
    RecordDict,
)
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp

from psfl.config import Config, load_config
from psfl.federation.checkpoint import RunLayout
from psfl.federation.core import BaseStation, MobileUserClient

__all__ = ["client_app", "make_client_app", "make_server_app", "run_flower_simulation",
           "server_app"]

_NODE_WAIT_S = 300.0
#: How often the BS looks for replies (and for a stop request) while a round is out.
_PULL_S = 0.2


class RunStopped(RuntimeError):
    """The run was interrupted while the BS waited; the round in flight is not recorded."""


def _config_from_context(context: Context) -> tuple[Config, Path, Path]:
    rc = context.run_config
    if "config" not in rc:
        raise ValueError("Flower run config lacks 'config' (path of the psfl TOML file); pass "
                         "--run-config \"config='configs/federation.toml'\" to flwr run")
    config = load_config(str(rc["config"]))
    out = Path(str(rc.get("out", "runs/flower")))
    state = Path(str(rc.get("state", RunLayout(out).mu_state)))
    return config, out, state


def _split_metrics(metrics: dict[str, Any]) -> RecordDict:
    numeric = {k: float(v) for k, v in metrics.items()
               if isinstance(v, int | float) and not isinstance(v, bool)}
    text = {k: str(v) for k, v in metrics.items() if k not in numeric}
    return RecordDict({"metrics": MetricRecord(numeric), "info": ConfigRecord(text)})


def _join_metrics(content: RecordDict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "metrics" in content:
        out.update(dict(content["metrics"]))
    if "info" in content:
        out.update(dict(content["info"]))
    return out


# ------------------------------------------------------------------------------------ ClientApp


def make_client_app(config: Config | None = None, state_dir: str | Path | None = None,
                    client_cls: type[MobileUserClient] = MobileUserClient) -> ClientApp:
    """A ClientApp for the MUs; ``config=None`` reads it from the Flower run config.
    ``client_cls`` is the MU implementation (a subclass can model a faulty or slow MU)."""
    app = ClientApp()
    clients: dict[tuple[int, str], MobileUserClient] = {}

    def client(context: Context) -> MobileUserClient:
        if config is None:
            cfg, _, state = _config_from_context(context)
        else:
            cfg, state = config, Path(state_dir or RunLayout("runs/flower").mu_state)
        if "partition-id" not in context.node_config:
            raise ValueError("this SuperNode has no partition-id; start it with "
                             "--node-config \"partition-id=0 num-partitions=N\"")
        mu = int(context.node_config["partition-id"])
        key = (mu, cfg.to_toml())
        if key not in clients:
            clients[key] = client_cls(cfg, mu, state)
        return clients[key]

    @app.query()
    def register(msg: Message, context: Context) -> Message:
        info = client(context).register()
        return Message(content=RecordDict({"info": ConfigRecord(
            {k: float(v) if isinstance(v, float) else int(v) for k, v in info.items()})}),
            reply_to=msg)

    @app.train()
    def train(msg: Message, context: Context) -> Message:
        arrays = (msg.content["arrays"].to_numpy_ndarrays() if "arrays" in msg.content
                  else None)
        out, metrics = client(context).train(arrays, dict(msg.content["config"]))
        content = _split_metrics(metrics)
        if out is not None:
            content["arrays"] = ArrayRecord(out)
        return Message(content=content, reply_to=msg)

    @app.evaluate()
    def evaluate(msg: Message, context: Context) -> Message:
        arrays = (msg.content["arrays"].to_numpy_ndarrays() if "arrays" in msg.content
                  else None)
        metrics = client(context).evaluate(arrays, dict(msg.content["config"]))
        return Message(content=_split_metrics(metrics), reply_to=msg)

    return app


# ------------------------------------------------------------------------------------ ServerApp


def _payload_message(arrays: list | None, cfg: dict[str, Any], node: int,
                     kind: str) -> Message:
    content = RecordDict({"config": ConfigRecord(
        {k: (int(v) if isinstance(v, bool) else v) for k, v in cfg.items()})})
    if arrays is not None:
        content["arrays"] = ArrayRecord([a for a in arrays])
    return Message(content=content, dst_node_id=node, message_type=kind)


def _check(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise RunStopped("interrupted")


def _wait_for_nodes(grid: Grid, n: int, timeout: float,
                    stop: threading.Event | None) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        _check(stop)
        nodes = list(grid.get_node_ids())
        if len(nodes) >= n or time.monotonic() > deadline:
            return nodes
        time.sleep(_PULL_S)


def _send_and_receive(grid: Grid, messages: Iterable[Message], timeout: float,
                      stop: threading.Event | None) -> list[Message]:
    """``Grid.send_and_receive`` that gives up at once when ``stop`` is set, instead of waiting
    out the round timeout (Flower's own call cannot be woken)."""
    pending = set(grid.push_messages(messages))
    deadline = time.monotonic() + timeout
    replies: list[Message] = []
    while pending and time.monotonic() < deadline:
        _check(stop)
        got = list(grid.pull_messages(pending))
        replies.extend(got)
        pending -= {m.metadata.reply_to_message_id for m in got}
        if pending:
            time.sleep(_PULL_S)
    # replies that arrived while the run was being stopped are the backend's shutdown errors
    _check(stop)
    return replies


def serve(grid: Grid, config: Config, out_dir: Path,
          log: Callable[[str], None] = print,
          on_round: Callable[[dict[str, Any]], None] | None = None,
          stop: threading.Event | None = None) -> BaseStation:
    """The BS's whole run over a Flower Grid (resumes from the run's checkpoint). Setting
    ``stop`` ends it with :class:`RunStopped` within :data:`_PULL_S` seconds, recording nothing
    of the round in flight."""
    fed = config.federation
    bs = BaseStation(config, out_dir, log)
    done = bs.restore()
    nodes = _wait_for_nodes(grid, config.data.num_mus, _NODE_WAIT_S, stop)
    replies = _send_and_receive(
        grid, [_payload_message(None, {"op": "register"}, n, MessageType.QUERY) for n in nodes],
        fed.round_timeout_s, stop)
    infos, node_of, errors = [], {}, []
    for r in replies:
        if r.has_error():
            log(f"registration failed at node {r.metadata.src_node_id}: {r.error.reason}")
            errors.append(r.error.reason.strip().splitlines()[-1] if r.error.reason else "?")
            continue
        info = dict(r.content["info"])
        infos.append(info)
        node_of[int(info["mu"])] = r.metadata.src_node_id
    if not done:
        if len(infos) < config.data.num_mus:
            why = (f"{len(errors)} failed to start: {errors[0]}" if errors else
                   "start one SuperNode per MU (partition-id 0…N-1)")
            raise ConnectionError(f"only {len(infos)} of {config.data.num_mus} MUs registered; "
                                  f"{why}")
        bs.register(infos)

    def exchange(payloads: dict[int, Any], kind: str) -> dict[int, Any]:
        msgs = {mu: _payload_message(a, c, node_of[mu], kind)
                for mu, (a, c) in payloads.items() if mu in node_of}
        mu_of = {node_of[mu]: mu for mu in msgs}
        out: dict[int, Any] = {mu: "not registered" for mu in payloads if mu not in node_of}
        for r in _send_and_receive(grid, list(msgs.values()), fed.round_timeout_s, stop):
            mu = mu_of[r.metadata.src_node_id]
            if r.has_error():
                out[mu] = f"error at MU: {r.error.reason}"
            elif kind == MessageType.EVALUATE:
                out[mu] = _join_metrics(r.content)
            else:
                arrays = (r.content["arrays"].to_numpy_ndarrays() if "arrays" in r.content
                          else None)
                out[mu] = (arrays, _join_metrics(r.content))
        return out

    for rnd in range(done + 1, fed.rounds + 1):
        summary = bs.finish_round(rnd, exchange(bs.plan_round(rnd), MessageType.TRAIN))
        if on_round is not None:
            on_round(summary)
    if not bs.final_rows:
        bs.finish_final(exchange(bs.final_payloads(), MessageType.EVALUATE))
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
    """
    import logging
    import os
    import signal
    import sys

    import ray
    from flwr.simulation import run_simulation

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
            ray.init(runtime_env={"env_vars": {"PYTHONPATH": pythonpath}}, **init_args)
        if main_thread:
            for s in saved:
                signal.signal(s, interrupt)
        run_simulation(server_app=server, client_app=client, num_supernodes=config.data.num_mus,
                       backend_config={"client_resources": {"num_cpus": per_mu,
                                                            "num_gpus": 0.0},
                                       "init_args": init_args})
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
