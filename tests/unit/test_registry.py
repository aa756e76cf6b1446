"""psfl.registry: discovery of one module per entry, capabilities, order and errors."""

import sys
import textwrap

import pytest

from psfl.registry import Registry


@pytest.fixture
def plugins(tmp_path, monkeypatch):
    """A package ``toyplug`` whose registry lives in its ``registry`` module and whose two
    entry modules register three names (one registers two)."""
    pkg = tmp_path / "toyplug"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "registry.py").write_text(textwrap.dedent("""
        from psfl.registry import Registry
        class Base:
            wet = False
        TOYS = Registry("toy", "toyplug", setting="toy.name", base=Base)
    """))
    (pkg / "boat.py").write_text(textwrap.dedent("""
        from toyplug.registry import TOYS, Base
        @TOYS.register("boat", order=1)
        class Boat(Base):
            wet = True
            def __init__(self, size=1):
                self.size = size
    """))
    (pkg / "car.py").write_text(textwrap.dedent("""
        from toyplug.registry import TOYS, Base
        @TOYS.register("car-s", size=2)
        @TOYS.register("car-l", size=5)
        class Car(Base):
            def __init__(self, size):
                self.size = size
    """))
    (pkg / "_helpers.py").write_text("raise RuntimeError('private modules are not entries')")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for mod in [m for m in sys.modules if m.startswith("toyplug")]:
        del sys.modules[mod]


def test_discovers_every_module_and_orders_entries(plugins):
    from toyplug.registry import TOYS

    assert TOYS.names() == ("boat", "car-l", "car-s")
    assert TOYS.names(wet=False) == ("car-l", "car-s")
    assert "car-s" in TOYS and "plane" not in TOYS
    assert TOYS.build("car-s").size == 2 and TOYS.build("boat", size=3).size == 3
    assert TOYS.capability("boat", "wet") is True
    assert TOYS.table("wet")[0] == {"name": "boat", "module": "toyplug.boat", "wet": True}


def test_unknown_name_lists_choices_and_setting(plugins):
    from toyplug.registry import TOYS

    with pytest.raises(ValueError, match=r"unknown toy 'plane'; choose one of boat, car-l, "
                                         r"car-s \(toy.name\)"):
        TOYS.get("plane")


def test_registration_checks_base_and_duplicates():
    reg = Registry("thing", "psfl", setting="x.y", base=int)
    with pytest.raises(TypeError, match="must derive from int"):
        reg.register("a")(str)

    class A(int):
        pass

    class B(int):
        pass

    reg.register("a")(A)
    reg.register("a")(A)  # the same class again (a module imported twice) is harmless
    with pytest.raises(ValueError, match="registered twice"):
        reg.register("a")(B)
