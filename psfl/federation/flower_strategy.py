"""The BS as a Flower strategy: :class:`BaseStationStrategy` holds the rounds of a run on a
Flower :class:`~flwr.serverapp.Grid` and leaves every decision to
:class:`~psfl.federation.roles.BaseStation` and its psfl strategy
(:class:`psfl.federation.strategies.Strategy`, which has the same four methods over plain
payloads).

Flower's :meth:`Strategy.start <flwr.serverapp.strategy.Strategy.start>` runs the rounds:

* ``configure_train`` → :meth:`BaseStation.plan_round` (channels, then the psfl strategy's
  ``configure_train``: the model, pruned or not, and the instructions), one message per MU;
* ``aggregate_train`` → :meth:`BaseStation.finish_round` (the psfl strategy's
  ``aggregate_train``, accounting, checkpoint); the new global model goes back to Flower as an
  ArrayRecord;
* ``configure_evaluate``/``aggregate_evaluate`` → nothing in the rounds before the last (each MU
  evaluates the received model inside its training step), the closing evaluation
  (:meth:`BaseStation.final_plan`, the psfl strategy's ``configure_evaluate`` and
  ``aggregate_evaluate``) after the last.

Flower calls ``configure_*`` and ``aggregate_*`` separately, so this adapter keeps the round's
plan between the two calls (:attr:`BaseStationStrategy.plan`): the one place where it must.

A resumed run starts Flower's count at 1 again; :attr:`BaseStationStrategy.first_round` maps it
to the run's round. :class:`StoppableGrid` lets an interrupt end a round in flight within
:data:`PULL_S` seconds (Flower's own ``send_and_receive`` cannot be woken before its timeout).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from logging import INFO
from typing import Any

from flwr.app import ArrayRecord, ConfigRecord, Message, MessageType, MetricRecord
from flwr.serverapp import Grid
from flwr.serverapp.strategy import Strategy

from psfl.federation.records import payload_message, read_arrays, read_reply
from psfl.federation.roles import BaseStation, RoundPlan

__all__ = ["PULL_S", "BaseStationStrategy", "RunStopped", "StoppableGrid", "register_mus"]

#: How often the BS looks for replies (and for a stop request) while a round is out [s].
PULL_S = 0.2


class RunStopped(RuntimeError):
    """The run was interrupted while the BS waited; the round in flight is not recorded."""


class StoppableGrid(Grid):
    """``grid`` whose ``send_and_receive`` polls every :data:`PULL_S` seconds and raises
    :class:`RunStopped` as soon as ``stop`` is set; everything else is ``grid``'s."""

    def __init__(self, grid: Grid, stop: threading.Event | None = None):
        self.grid, self.stop = grid, stop

    def check(self) -> None:
        """Raise :class:`RunStopped` if the run is being stopped."""
        if self.stop is not None and self.stop.is_set():
            raise RunStopped("interrupted")

    def set_run(self, run: Any) -> None:
        self.grid.set_run(run)

    @property
    def run(self) -> Any:
        return self.grid.run

    def create_message(self, content: Any, message_type: str, dst_node_id: int, group_id: str,
                       ttl: float | None = None) -> Message:
        return self.grid.create_message(content, message_type, dst_node_id, group_id, ttl)

    def get_node_ids(self) -> Iterable[int]:
        return self.grid.get_node_ids()

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        return self.grid.push_messages(messages)

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        return self.grid.pull_messages(message_ids)

    def send_and_receive(self, messages: Iterable[Message], *,
                         timeout: float | None = None) -> Iterable[Message]:
        pending = set(self.grid.push_messages(messages))
        deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
        replies: list[Message] = []
        while pending and time.monotonic() < deadline:
            self.check()
            got = list(self.grid.pull_messages(pending))
            replies.extend(got)
            pending -= {m.metadata.reply_to_message_id for m in got}
            if pending:
                time.sleep(PULL_S)
        # replies that arrived while the run was being stopped are the backend's shutdown errors
        self.check()
        return replies

    def wait_for_nodes(self, n: int, timeout: float) -> list[int]:
        """The connected nodes, once there are ``n`` of them or ``timeout`` has passed."""
        deadline = time.monotonic() + timeout
        while True:
            self.check()
            nodes = list(self.grid.get_node_ids())
            if len(nodes) >= n or time.monotonic() > deadline:
                return nodes
            time.sleep(PULL_S)


def register_mus(grid: StoppableGrid, num_mus: int, timeout: float,
                 log: Callable[[str], None]) -> tuple[list[dict[str, Any]], dict[int, int],
                                                      list[str]]:
    """Ask every node which MU it is (waiting up to ``timeout`` for ``num_mus`` nodes to
    connect, then as long again for their replies): returns the MUs' registration replies, the
    node of each MU, and the reasons of the nodes that failed to answer."""
    nodes = grid.wait_for_nodes(num_mus, timeout)
    replies = grid.send_and_receive(
        [payload_message(None, {"op": "register"}, n, MessageType.QUERY) for n in nodes],
        timeout=timeout)
    infos, node_of, errors = [], {}, []
    for r in replies:
        if r.has_error():
            log(f"registration failed at node {r.metadata.src_node_id}: {r.error.reason}")
            errors.append(r.error.reason.strip().splitlines()[-1] if r.error.reason else "?")
            continue
        info = dict(r.content["info"])
        infos.append(info)
        node_of[int(info["mu"])] = r.metadata.src_node_id
    return infos, node_of, errors


class BaseStationStrategy(Strategy):
    """The rounds of a PSFL run as a Flower strategy (module docstring).

    Parameters
    ----------
    bs
        The BS, registered (or restored) and ready for its next round.
    node_of
        Flower node id of each MU index.
    on_round
        Called with each finished round's summary row.
    """

    def __init__(self, bs: BaseStation, node_of: dict[int, int],
                 on_round: Callable[[dict[str, Any]], None] | None = None):
        self.bs, self.node_of, self.on_round = bs, node_of, on_round
        self.first_round = bs.completed + 1
        #: The round in flight, from ``configure_*`` to ``aggregate_*`` (Flower's API has no
        #: other way to hand it over).
        self.plan: RoundPlan | None = None

    # -- helpers ------------------------------------------------------------------------------
    def _messages(self, plan: RoundPlan, kind: str) -> list[Message]:
        self.plan = plan
        return [payload_message(arrays, cfg, self.node_of[mu], kind)
                for mu, (arrays, cfg) in plan.payloads.items() if mu in self.node_of]

    def _replies(self, replies: Iterable[Message], train: bool) -> dict[int, Any]:
        mu_of = {node: mu for mu, node in self.node_of.items()}
        out: dict[int, Any] = {mu: "not registered" for mu in self.plan.mus
                               if mu not in self.node_of}
        for r in replies:
            mu = mu_of[r.metadata.src_node_id]
            if r.has_error():
                out[mu] = f"error at MU: {r.error.reason}"
            elif train:
                out[mu] = (read_arrays(r.content), read_reply(r.content))
            else:
                out[mu] = read_reply(r.content)
        return out

    def _is_last(self, server_round: int) -> bool:
        return server_round + self.first_round - 1 == self.bs.fed.rounds

    # -- Flower's Strategy --------------------------------------------------------------------
    def configure_train(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                        grid: Grid) -> Iterable[Message]:
        """The round's payloads (``arrays`` is the BS's dense model as Flower carries it)."""
        return self._messages(self.bs.plan_round(server_round + self.first_round - 1),
                              MessageType.TRAIN)

    def aggregate_train(self, server_round: int, replies: Iterable[Message]
                        ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        summary = self.bs.finish_round(self.plan, self._replies(replies, train=True))
        if self.on_round is not None:
            self.on_round(summary)
        metrics = {k: float(summary[k]) for k in ("round", "accepted", "personal_psnr",
                                                  "comm_energy_j", "compute_energy_j")}
        return ArrayRecord(list(self.bs.dense)), MetricRecord(metrics)

    def configure_evaluate(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                           grid: Grid) -> Iterable[Message]:
        """Nothing before the last round; then the closing evaluation of every MU."""
        if not self._is_last(server_round):
            self.plan = None
            return []
        return self._messages(self.bs.final_plan(), MessageType.EVALUATE)

    def aggregate_evaluate(self, server_round: int, replies: Iterable[Message]
                           ) -> MetricRecord | None:
        if self.plan is None or not self.plan.final:
            return None
        answers = self._replies(replies, train=False)
        self.bs.finish_final(self.plan, answers)
        means = self.bs.strategy.aggregate_evaluate(
            self.plan.round, {mu: r for mu, r in answers.items() if isinstance(r, dict)})
        return MetricRecord(means) if means else None

    def summary(self) -> None:
        from flwr.common.logger import log

        fed = self.bs.fed
        log(INFO, "\t├── psfl %s: rounds %d…%d of %d, %d MUs, aggregator %s", fed.strategy,
            self.first_round, fed.rounds, fed.rounds, len(self.node_of), fed.aggregator)

    def evaluate_final(self, grid: Grid, timeout: float) -> None:
        """The closing evaluation alone (a run resumed after its last round)."""
        msgs = self._messages(self.bs.final_plan(), MessageType.EVALUATE)
        self.aggregate_evaluate(0, grid.send_and_receive(msgs, timeout=timeout))
