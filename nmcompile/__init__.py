"""nmcompile: one spiking network description, several backends, proven to agree."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nmcompile")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"


def __getattr__(name: str):
    """load_model, save_model, load_nir, save_nir, NetworkBuilder on demand, so `import nmcompile` stays cheap."""
    if name == "load_model":
        from nmcompile.frontends.modelfile import load_model
        return load_model
    if name == "save_model":
        from nmcompile.frontends.savemodel import save_model
        return save_model
    if name in ("load_nir", "save_nir"):
        from nmcompile.frontends import nir
        return getattr(nir, name)
    if name == "NetworkBuilder":
        from nmcompile.frontends.builder import NetworkBuilder
        return NetworkBuilder
    raise AttributeError(f"module 'nmcompile' has no attribute {name!r}")
