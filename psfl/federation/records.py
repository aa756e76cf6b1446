"""psfl payloads as Flower Message-API records, and back.

A BS → MU message holds ``"arrays"`` (:class:`~flwr.app.ArrayRecord`, the student, absent for a
local-only strategy or a registration) and ``"config"`` (:class:`~flwr.app.ConfigRecord`: round,
SNR, pruning, the student's local objective). An MU's reply holds ``"arrays"`` (its update, if
any), ``"metrics"`` (:class:`~flwr.app.MetricRecord`, every numeric value) and ``"info"`` (a
ConfigRecord with the text values, e.g. the mentor's name). The FedAvg weight travels under Flower's key
``"num-examples"`` (:data:`WEIGHT_KEY`); psfl's rows keep calling it ``num_samples``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Message, MetricRecord, RecordDict

__all__ = ["WEIGHT_KEY", "payload_message", "read_arrays", "read_reply", "reply_content"]

#: Flower's name for the number of training examples behind an update.
WEIGHT_KEY = "num-examples"
_OURS = "num_samples"


def payload_message(arrays: list[np.ndarray] | None, cfg: dict[str, Any], node: int,
                    kind: str) -> Message:
    """The message carrying payload ``(arrays, cfg)`` to ``node`` (``kind``: a
    :class:`~flwr.app.MessageType`)."""
    content = RecordDict({"config": ConfigRecord(
        {k: (int(v) if isinstance(v, bool) else v) for k, v in cfg.items()})})
    if arrays is not None:
        content["arrays"] = ArrayRecord(list(arrays))
    return Message(content=content, dst_node_id=node, message_type=kind)


def read_arrays(content: RecordDict) -> list[np.ndarray] | None:
    """The model a message carries, or ``None``."""
    return content["arrays"].to_numpy_ndarrays() if "arrays" in content else None


def reply_content(metrics: dict[str, Any], arrays: list[np.ndarray] | None = None) -> RecordDict:
    """An MU's reply: numbers in a MetricRecord, text in a ConfigRecord, the update if any."""
    named = {(WEIGHT_KEY if k == _OURS else k): v for k, v in metrics.items()}
    numeric = {k: float(v) for k, v in named.items()
               if isinstance(v, int | float) and not isinstance(v, bool)}
    text = {k: str(v) for k, v in named.items() if k not in numeric}
    content = RecordDict({"metrics": MetricRecord(numeric), "info": ConfigRecord(text)})
    if arrays is not None:
        content["arrays"] = ArrayRecord(list(arrays))
    return content


def read_reply(content: RecordDict) -> dict[str, Any]:
    """The metrics of an MU's reply as one flat dict (inverse of :func:`reply_content`)."""
    out: dict[str, Any] = {}
    for key in ("metrics", "info"):
        if key in content:
            out.update(dict(content[key]))
    if WEIGHT_KEY in out:
        out[_OURS] = out.pop(WEIGHT_KEY)
    return out
