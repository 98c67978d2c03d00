"""The lock (`requirements.lock`) is what `make` installs: it must pin every package exactly,
satisfy every range in pyproject.toml (extras included) and be what this venv holds."""
from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
import tomli
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, pinned = line.partition("==")
        assert sep and pinned and " " not in pinned, f"not an exact pin: {line!r}"
        pins[canonicalize_name(name)] = pinned
    return pins


def _requirements(extra: str | None = None) -> list[Requirement]:
    project = tomli.loads((ROOT / "pyproject.toml").read_text())["project"]
    texts = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return [Requirement(t) for t in texts]


def test_every_range_of_pyproject_is_met_by_the_lock():
    pins, env = _lock(), default_environment()
    extras = tomli.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for extra in [None, *extras]:
        for req in _requirements(extra):
            if canonicalize_name(req.name) == "nmcompile" or (
                    req.marker and not req.marker.evaluate(env)):
                continue
            pinned = pins.get(canonicalize_name(req.name))
            assert pinned is not None, f"{req} ({extra or 'dependencies'}) is not in the lock"
            assert req.specifier.contains(pinned, prereleases=True), f"{req}: lock has {pinned}"


def test_the_build_backend_is_locked_too():
    build = tomli.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    pins = _lock()
    for req in map(Requirement, build):
        assert req.specifier.contains(pins[canonicalize_name(req.name)])


def test_this_environment_is_the_lock():
    """What make installed is what the lock says (a stale .venv is rebuilt by make)."""
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.skip("not the .venv that make installs from the lock")
    wrong = {}
    for name, pinned in _lock().items():
        try:
            have = version(name)
        except PackageNotFoundError:
            have = None
        if have != pinned:
            wrong[name] = (pinned, have)
    assert not wrong, f"lock vs installed: {wrong}"


def test_make_installs_from_the_lock_without_resolving():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -q --no-deps -r $(LOCK)" in makefile
    assert "--no-deps --no-build-isolation -e ." in makefile
