"""The pytest plugin in a user's project: one line of configuration, one parity test per model."""
import numpy  # noqa: F401  loaded here once: pytester's in-process runs would unload and reload it
import pytest
from parity_models import CLEAR, EDGE

pytest_plugins = ["pytester"]


@pytest.fixture
def project(pytester):
    """A user's repository: models/ outside testpaths, settings in pyproject.toml."""
    pytester.makepyprojecttoml("""
        [tool.pytest.ini_options]
        testpaths = ["tests"]
        nmcompile_parity_models = ["models/*.yaml"]
        nmcompile_parity_backends = ["brian2,emulator"]
        nmcompile_parity_tolerance = "abs=0,rel=0"
    """)
    (pytester.path / "models").mkdir()
    (pytester.path / "models" / "edge.yaml").write_text(EDGE)
    (pytester.path / "models" / "clear.yaml").write_text(CLEAR)
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_own.py").write_text(
        "def test_with_the_fixture(nmcompile_parity):\n"
        "    report = nmcompile_parity('models/clear.yaml', steps=12)\n"
        "    assert report.ok and report.steps == 12\n")
    return pytester


@pytest.mark.slow
def test_plugin_collects_one_parity_test_per_model_and_fails_the_violating_one(project):
    result = project.runpytest("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "PASSED tests/test_own.py::test_with_the_fixture",
        "PASSED models/clear.yaml::parity",
        "FAILED models/edge.yaml::parity*",
    ])
    assert "PARITY VIOLATED" in result.stdout.str()
    assert "step 9, out" in result.stdout.str()


def test_plugin_respects_explicit_paths_and_stays_idle_without_configuration(project):
    only_own = project.runpytest("-p", "no:cacheprovider", "tests/test_own.py", "--co", "-q")
    only_own.stdout.fnmatch_lines(["tests/test_own.py::test_with_the_fixture"])
    assert "models/" not in only_own.stdout.str()
    (project.path / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    idle = project.runpytest("-p", "no:cacheprovider", "--co", "-q", "models")
    assert "parity" not in idle.stdout.str()


@pytest.mark.parametrize("steps", ["ten", "0", "99999999999"])
def test_a_bad_steps_setting_is_a_usage_error_without_traceback(project, steps):
    with open(project.path / "pyproject.toml", "a") as fh:
        fh.write(f'\nnmcompile_parity_steps = "{steps}"\n')
    result = project.runpytest("-p", "no:cacheprovider", "--co", "-q")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: nmcompile_parity_steps must be an integer in "
                                 f"1..2147483647, got '{steps}'"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
