"""The layout of a federated run's directory and its crash-safe round checkpoint.

Layout (ours; every path is asked of :class:`RunLayout`, no caller builds one)::

    <out>/checkpoint/round.npz       the BS's last finished round: global weights and state
    <out>/rounds.csv, mu_rounds.csv  every finished round, rewritten after each one
    <out>/mu_state/mu<n>/            what MU n keeps across rounds and crashes (:class:`MuState`)

Rules (ours, the paper is silent):

* **One atomic unit per round.** The global weights, the strategy's server state (FedAdam's
  moments: arrays ``s.<name>.<i>``) and the state that names their round are one ``.npz`` file
  (the state as JSON bytes beside the arrays) written under a name unique to the writer and
  renamed into place, so a kill at any instant leaves either the previous round or the new one,
  never weights of one round with the state of another.
* **Validated resume.** The state carries the effective configuration and its hash,
  ``sha256`` of the canonical JSON of every key except :data:`RESUMABLE` (keys that may change
  between the parts of one run). :func:`config_changes` names what differs; a checkpoint made
  with another configuration, or one that does not parse, is refused in one line. A key added
  to psfl after a run was recorded (:data:`ADDED_KEYS`) counts as absent while it holds the
  value such a run was computed with, so runs recorded before it still resume.
* **MU state versioned by round.** An MU's models are saved as ``<name>-r<round>`` and a round
  ``r`` starts from the newest version older than ``r``, so a round that is run again after a
  crash starts from the state before it, even when the MU had finished its part of it. The two
  newest versions are kept. Energy an MU spends is never versioned: spent is spent.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from psfl.phy.cell.config import CellConfig
from psfl.results import atomic_write_bytes, csv_text

__all__ = ["ADDED_KEYS", "MAY_CHANGE", "RESUMABLE", "CheckpointError", "MuState", "RoundCheckpoint", "RunLayout",
           "config_changes", "config_hash"]

#: Keys that may differ between the parts of one run: how long it runs and how it is executed,
#: not what it computes.
RESUMABLE = frozenset({"federation.rounds", "federation.round_timeout_s", "federation.backend",
                       "federation.parallel_mus", "run.out"})
#: What a refusal tells the user may change (``run.out`` is the directory itself).
MAY_CHANGE = ", ".join(sorted(RESUMABLE - {"run.out"}))
#: Keys added after runs were recorded, with the value every run recorded without them was
#: computed with (their defaults): at that value they are left out of the hash and the
#: comparison, so such runs resume (the round's uplink and client selection, and ``[cell]``).
ADDED_KEYS: dict[str, Any] = {
    "federation.uplink": "dedicated", "federation.clients_per_round": 0,
    "federation.selection": "all",
    **{f"cell.{f.name}": f.default for f in dataclasses.fields(CellConfig)}}
#: Versions of each MU model kept on disk.
KEEP_VERSIONS = 2


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed (unreadable, or made by another configuration)."""


def _flat(config: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    out = {f"{s}.{k}": v for s, sec in config.items() for k, v in sec.items()}
    return {k: v for k, v in out.items()
            if k not in RESUMABLE and not (k in ADDED_KEYS and v == ADDED_KEYS[k])}


def config_hash(config: Mapping[str, Mapping[str, Any]]) -> str:
    """``sha256`` of the configuration (``Config.to_dict()``) without :data:`RESUMABLE` keys."""
    text = json.dumps(_flat(config), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def config_changes(old: Mapping[str, Mapping[str, Any]],
                   new: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """``"section.key old → new"`` for every non-resumable key that differs."""
    a, b = _flat(old), _flat(new)
    return [f"{k} {a.get(k)!r} → {b.get(k)!r}" for k in sorted(set(a) | set(b))
            if a.get(k) != b.get(k)]


@dataclasses.dataclass(frozen=True)
class RoundCheckpoint:
    """A finished round as saved: the global weights, the BS's state (JSON) and the strategy's
    server arrays by name (empty for most strategies)."""

    arrays: list[np.ndarray]
    state: dict[str, Any]
    server: dict[str, list[np.ndarray]]


class RunLayout:
    """Paths of a federated run under ``out_dir`` and its round checkpoint.

    Parameters
    ----------
    out_dir
        The run directory (the BS's ``--out``).
    """

    def __init__(self, out_dir: str | Path):
        self.root = Path(out_dir)
        self.checkpoint_dir = self.root / "checkpoint"
        self.checkpoint = self.checkpoint_dir / "round.npz"
        self.mu_state = self.root / "mu_state"
        self.rounds_csv = self.root / "rounds.csv"
        self.mu_rounds_csv = self.root / "mu_rounds.csv"

    def exists(self) -> bool:
        """Whether a checkpoint or MU state of an earlier run is here."""
        return self.checkpoint_dir.is_dir() or self.mu_state.is_dir()

    def archive(self, dest: Path) -> None:
        """Move an earlier run's checkpoint and MU state into ``dest`` (a fresh run starts)."""
        for part in (self.checkpoint_dir, self.mu_state):
            if part.exists():
                shutil.move(str(part), str(dest / part.name))

    # -- the round checkpoint --------------------------------------------------------------
    def save(self, arrays: Sequence[np.ndarray], state: Mapping[str, Any],
             server: Mapping[str, Sequence[np.ndarray]] | None = None) -> None:
        """Write weights, state and the strategy's server arrays as one file, atomically."""
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        blob = np.frombuffer(json.dumps(state).encode("utf-8"), np.uint8)
        extra = {f"s.{name}.{i}": np.asarray(a) for name, values in (server or {}).items()
                 for i, a in enumerate(values)}
        np.savez(buf, state=blob, **{f"w{i}": np.asarray(a) for i, a in enumerate(arrays)},
                 **extra)
        atomic_write_bytes(self.checkpoint, buf.getvalue())

    def load(self) -> tuple[list[np.ndarray], dict[str, Any]] | None:
        """The last finished round's ``(weights, state)``, or ``None`` when there is none."""
        loaded = self.load_round()
        return None if loaded is None else (loaded.arrays, loaded.state)

    def load_round(self) -> RoundCheckpoint | None:
        """The last finished round (:class:`RoundCheckpoint`), or ``None`` when there is none."""
        if not self.checkpoint.is_file():
            if (self.checkpoint_dir / "state.json").is_file():
                raise CheckpointError(f"{str(self.checkpoint_dir)!r} holds a checkpoint of an "
                                      "older psfl (state.json + global.npz) that this version "
                                      "cannot resume; start a new run")
            return None
        try:
            with np.load(self.checkpoint) as z:
                state = json.loads(z["state"].tobytes().decode("utf-8"))
                n = sum(1 for k in z.files if re.fullmatch(r"w\d+", k))
                arrays = [z[f"w{i}"] for i in range(n)]
                counts: dict[str, int] = {}
                for k in z.files:
                    if (m := re.fullmatch(r"s\.(.+)\.(\d+)", k)) is not None:
                        counts[m.group(1)] = counts.get(m.group(1), 0) + 1
                server = {name: [z[f"s.{name}.{i}"] for i in range(c)]
                          for name, c in counts.items()}
            int(state["completed_rounds"])
        except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
            raise CheckpointError(f"checkpoint {str(self.checkpoint)!r} is unreadable "
                                  f"({type(exc).__name__}: {exc}); move it away to start over"
                                  ) from None
        return RoundCheckpoint(arrays, state, server)

    def check_config(self, state: Mapping[str, Any],
                     config: Mapping[str, Mapping[str, Any]]) -> None:
        """Refuse (one line naming the keys) a checkpoint ``state`` (from :meth:`load`) made
        with another configuration (``Config.to_dict()``)."""
        if state.get("config_hash") == config_hash(config):
            return
        changed = config_changes(state.get("config", {}), config)
        more = f" (and {len(changed) - 6} more)" if len(changed) > 6 else ""
        raise CheckpointError(
            f"checkpoint in {str(self.checkpoint_dir)!r} was made with another configuration: "
            f"{'; '.join(changed[:6]) or 'unknown keys'}{more}; resume with the run's own "
            f"config.toml (only {MAY_CHANGE} may change)")

    def global_weights(self) -> list[np.ndarray]:
        """The global model of the last finished round."""
        loaded = self.load()
        if loaded is None:
            raise FileNotFoundError(f"no checkpoint in {str(self.checkpoint_dir)!r}")
        return loaded[0]

    def completed_rounds(self) -> int:
        """Rounds finished so far (0 when there is no checkpoint)."""
        loaded = self.load()
        return 0 if loaded is None else int(loaded[1]["completed_rounds"])

    def write_rows(self, round_rows: Sequence[Mapping[str, Any]],
                   mu_rows: Sequence[Mapping[str, Any]]) -> None:
        """``rounds.csv`` and ``mu_rounds.csv`` of the rounds finished so far."""
        atomic_write_bytes(self.rounds_csv, csv_text(round_rows).encode("utf-8"))
        atomic_write_bytes(self.mu_rounds_csv, csv_text(mu_rows).encode("utf-8"))

    def mu(self, mu: int) -> MuState:
        """The persistent state of MU ``mu``."""
        return MuState(self.mu_state / f"mu{mu}")


class MuState:
    """What one MU keeps across rounds: its models versioned by round, and the energy it spent.

    Parameters
    ----------
    root
        The MU's folder (created).
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _versions(self, name: str) -> list[tuple[int, Path]]:
        found = []
        for p in self.root.glob(f"{name}-r*.weights.h5"):
            m = re.fullmatch(rf"{re.escape(name)}-r(\d+)\.weights\.h5", p.name)
            if m:
                found.append((int(m.group(1)), p))
        return sorted(found)

    def before(self, name: str, rnd: int) -> Path | None:
        """The newest saved version of model ``name`` from a round before ``rnd``."""
        older = [p for r, p in self._versions(name) if r < rnd]
        return older[-1] if older else None

    def latest(self, name: str) -> Path | None:
        """The newest saved version of model ``name`` (``None`` if there is none)."""
        versions = self._versions(name)
        return versions[-1][1] if versions else None

    def rounds(self, name: str) -> list[int]:
        """Rounds for which a version of model ``name`` is kept."""
        return [r for r, _ in self._versions(name)]

    def save(self, model: Any, name: str, rnd: int) -> Path:
        """Save a Keras model's weights as the version of round ``rnd``; prune old versions."""
        path = self.root / f"{name}-r{rnd:05d}.weights.h5"
        # Keras insists on the suffix; the rest of the name is unique to this writer
        buf = self.root / f".{name}-r{rnd:05d}.{os.getpid()}-{uuid.uuid4().hex[:8]}.weights.h5"
        model.save_weights(buf)
        buf.replace(path)
        for _, old in self._versions(name)[:-KEEP_VERSIONS]:
            old.unlink(missing_ok=True)
        return path

    def spent_j(self) -> float:
        """Computation energy this MU has spent so far, in every round it worked on."""
        path = self.root / "spent.json"
        return float(json.loads(path.read_text())["compute_energy_j"]) if path.is_file() else 0.0

    def spend(self, joules: float) -> float:
        """Add ``joules`` to the energy spent; returns the new total."""
        total = self.spent_j() + float(joules)
        atomic_write_bytes(self.root / "spent.json",
                           json.dumps({"compute_energy_j": total}).encode("utf-8"))
        return total
