import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("PSFL_PROGRESS", "0")
os.environ.setdefault("PSFL_NOTEBOOK_SETTINGS", "small")  # nbmake kernels inherit it: notebooks run small

import pytest  # noqa: E402

#: The fast tier (`make test-fast`, under 2 min on 2 cores): pure functions, configuration,
#: file formats and small models. `make test` runs everything, these included.
FAST_MODULES = frozenset({
    "test_config", "test_config_choices", "test_config_import", "test_inputs", "test_results",
    "test_data", "test_phy_budget", "test_phy_pathloss", "test_phy_capacity", "test_phy_source",
    "test_federation_algorithms", "test_hil_iio_guard", "test_semantic_models", "test_plotting",
})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.stem in FAST_MODULES:  # notebooks (nbmake items) are never in the tier
            item.add_marker(pytest.mark.fast)
