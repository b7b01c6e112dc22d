"""A migration file loaded as a module, for tests that hold its frozen SQL or its data step to the app."""
import importlib.util
from pathlib import Path

VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"


def load(revision: str):
    """The module of migrations/versions/<revision>_*.py."""
    path = next(VERSIONS.glob(f"{revision}_*.py"))
    spec = importlib.util.spec_from_file_location(f"migration_{revision}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
