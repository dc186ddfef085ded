"""The public surface is deliberate: every public module lists its names in ``__all__``."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

import soundry
from soundry import errors


def _modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(soundry.__path__, prefix="soundry.")
        if not info.name.rsplit(".", 1)[-1].startswith("_")
        and not info.name.startswith("soundry.cli")
    )


def test_top_level_all_matches_public_names() -> None:
    public = {
        name
        for name, value in vars(soundry).items()
        if not name.startswith("_") and not isinstance(value, type(soundry))
    }
    assert public <= set(soundry.__all__)
    for name in soundry.__all__:  # lazy names resolve on first use
        assert getattr(soundry, name) is not None


@pytest.mark.parametrize("name", _modules())
def test_every_module_declares_all(name: str) -> None:
    module = importlib.import_module(name)
    assert hasattr(module, "__all__"), f"{name} has no __all__"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names missing attributes: {missing}"


def test_every_error_is_a_soundry_error() -> None:
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.SoundryError)
    assert issubclass(errors.UnsupportedFormatError, errors.DecodeError)
    assert issubclass(errors.ParameterError, ValueError)


def test_engine_entry_points_load_lazily() -> None:
    # ``import soundry`` must not pull in the engine (numba, scipy): the CLI starts fast.
    code = (
        "import sys, soundry; "
        "assert 'soundry.engine.analysis' not in sys.modules; "
        "assert 'soundry.engine.mastering' not in sys.modules; "
        "from soundry.engine.analysis import analyze; "
        "assert soundry.analyze is analyze"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
