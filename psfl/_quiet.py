"""TensorFlow's start-up chatter kept off the terminal, for the library as for the CLI.

Importing TensorFlow and discovering its devices writes C++ log lines straight to file
descriptor 2 before absl logging is configured (the absl preamble, oneDNN and CPU-feature
notices, CUDA stub probing, and on a machine without a GPU driver the ``cuInit`` failure), so no
environment variable silences all of them. ``import psfl`` therefore installs a finder that
wraps the first ``import tensorflow`` (by psfl or by the user, after ``import psfl``): the
import and the device discovery run with descriptor 2 pointed at ``/dev/null``; errors the
import raises still surface as exceptions, and every later TensorFlow message is untouched.

Later, TensorFlow's C++ log is kept to fatal lines (``TF_CPP_MIN_LOG_LEVEL=3`` unless the
user set it): what it logs at ERROR level on psfl's paths are notices, e.g. "oneDNN supports
DT_BOOL only on platforms with AVX-512. Falling back to the default Eigen-based implementation"
the first time Sionna's UMi model runs; real failures reach psfl as Python exceptions.

``PSFL_TF_LOGS=1`` leaves TensorFlow's logging as it is (e.g. to see why a GPU is not used).
TensorFlow imported before psfl is left as it is.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

__all__ = ["install", "quiet_tensorflow"]


@contextlib.contextmanager
def _muted_fd2() -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _QuietLoader(importlib.abc.Loader):
    """TensorFlow's own loader, its module executed with descriptor 2 muted and its devices
    discovered while it still is."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with _muted_fd2():
            self.loader.exec_module(module)
            # device discovery prints the `cuInit` line; done now, it is not done again
            module.config.list_physical_devices()
        module.__loader__ = module.__spec__.loader = self.loader

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)


class _QuietFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if name != "tensorflow":
            return None
        _uninstall()  # once: the real finders locate it
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def _uninstall() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _QuietFinder)]


def install() -> None:
    """Mute TensorFlow's start-up lines when it is first imported (module docstring)."""
    if os.environ.get("PSFL_TF_LOGS") == "1":
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietFinder)
                                                   for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder())


def quiet_tensorflow() -> ModuleType:
    """TensorFlow, imported (if it was not) with its start-up lines muted."""
    install()
    import tensorflow as tf

    return tf
