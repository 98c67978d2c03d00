"""pytest plugin (entry point `pytest11: nmcompile`): one parity test per model file.

One line of configuration in the user's pyproject.toml (or pytest.ini / setup.cfg):

    [tool.pytest.ini_options]
    nmcompile_parity_models = ["models/*.yaml"]

and `pytest` runs `nmc parity` on every matching model, as a test item named
`models/<file>.yaml::parity`. Optional: nmcompile_parity_backends (default all four),
nmcompile_parity_target, nmcompile_parity_steps, nmcompile_parity_tolerance.
Also a fixture, `nmcompile_parity`: `nmcompile_parity("models/x.yaml")` checks one model
with those settings. Without configuration the plugin does nothing, and imports nothing heavy.
"""
from __future__ import annotations

from pathlib import Path

import pytest

MODELS_INI = "nmcompile_parity_models"


def pytest_addoption(parser):
    parser.addini(MODELS_INI, type="args", default=[],
                  help="glob(s) of model files, relative to the rootdir, to check for parity")
    parser.addini("nmcompile_parity_backends", type="args", default=[],
                  help="backends to compare (default: brian2 lava lava-fixed emulator)")
    parser.addini("nmcompile_parity_target", default="", help="target of fixed-point backends")
    parser.addini("nmcompile_parity_steps", default="", help="run length (default: the model's)")
    parser.addini("nmcompile_parity_tolerance", default="",
                  help="float vs fixed tolerance, e.g. 'abs=2,rel=0.1,van_rossum=0.5'")


_MODELS = pytest.StashKey[list]()


def _model_files(config) -> list[Path]:
    """The configured model files, globbed once per session (collection asks for every file)."""
    if _MODELS not in config.stash:
        root = config.rootpath
        found = {p.resolve() for pattern in config.getini(MODELS_INI) for p in root.glob(pattern)}
        config.stash[_MODELS] = sorted(p for p in found if p.is_file())
    return config.stash[_MODELS]


def pytest_configure(config):
    """Add configured model files to a default collection (testpaths or the invocation dir)
    they lie outside of; explicit command-line paths are left as the user gave them.
    A bad run length is a usage error here, before any test runs."""
    if config.getini("nmcompile_parity_steps"):
        _ini_steps(config.getini("nmcompile_parity_steps"))
    if config.args_source == pytest.Config.ArgsSource.ARGS:
        return
    roots = [Path(a).resolve() for a in config.args]
    for path in _model_files(config):
        if not any(path == r or r in path.parents for r in roots):
            config.args.append(str(path))


def pytest_collect_file(file_path: Path, parent):
    if file_path.resolve() in _model_files(parent.config):
        return ParityModelFile.from_parent(parent, path=file_path)
    return None


def parity_settings(config) -> dict:
    """Keyword arguments of assert_parity from the ini options."""
    from nmcompile.parity.compare import Tolerance
    out: dict = {}
    if config.getini("nmcompile_parity_backends"):
        out["backends"] = [b for item in config.getini("nmcompile_parity_backends")
                           for b in item.split(",") if b]
    if config.getini("nmcompile_parity_target"):
        out["target"] = config.getini("nmcompile_parity_target")
    if config.getini("nmcompile_parity_steps"):
        out["steps"] = _ini_steps(config.getini("nmcompile_parity_steps"))
    if config.getini("nmcompile_parity_tolerance"):
        out["tolerance"] = Tolerance.parse(config.getini("nmcompile_parity_tolerance"))
    return out


def _ini_steps(text: str) -> int:
    from nmcompile.ir import MAX_STEPS
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 1 <= value <= MAX_STEPS:
        raise pytest.UsageError(f"nmcompile_parity_steps must be an integer in 1..{MAX_STEPS}, "
                                f"got {text!r}")
    return value


class ParityModelFile(pytest.File):
    def collect(self):
        yield ParityItem.from_parent(self, name="parity")


class ParityItem(pytest.Item):
    """Runs every configured backend on one model and judges the pairs (DESIGN §3)."""

    def runtest(self):
        from nmcompile.testing import assert_parity
        report = assert_parity(self.path, **parity_settings(self.config))
        from nmcompile.parity.report import format_table
        self.add_report_section("call", "parity", format_table(report))
        for pair in report.pairs:
            self.user_properties.append((pair.name, pair.verdict))
        if all(p.verdict == "skip" for p in report.pairs):
            pytest.skip("every pair skipped: " + "; ".join(p.note for p in report.pairs))

    def repr_failure(self, excinfo, style=None):
        from nmcompile.diagnostics import InputError
        if excinfo.errisinstance((AssertionError, InputError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"parity of {self.path.name}"


@pytest.fixture
def nmcompile_parity(request):
    """`nmcompile_parity(model, **overrides)`: assert_parity with the ini settings as defaults."""
    from nmcompile.testing import assert_parity
    defaults = parity_settings(request.config)

    def check(model, **overrides):
        return assert_parity(model, **{**defaults, **overrides})
    return check
