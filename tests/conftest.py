import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("PSFL_PROGRESS", "0")
os.environ.setdefault("PSFL_NOTEBOOK_SETTINGS", "small")  # nbmake kernels inherit it: notebooks run small

import pytest  # noqa: E402

#: The fast tier (`make test-fast`, under 2 min on 2 cores) is tests/unit: one module's pure
#: functions, configuration, file formats and small models. `make test` runs everything.
UNIT = Path(__file__).parent / "unit"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if UNIT in item.path.parents:  # notebooks (nbmake items) are never in the tier
            item.add_marker(pytest.mark.fast)
