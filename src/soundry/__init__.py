"""Soundry: a self-hosted audio production engine.

The engine's entry points (``soundry.master``, ``soundry.analyze``, ``soundry.resize``,
``soundry.export`` and friends) load on
first use, so that ``import soundry`` and ``soundry --help`` stay fast.
"""

import importlib as _importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from soundry.audio.buffer import AudioBuffer, SourceFormat
from soundry.errors import (
    DecodeError,
    EncodeError,
    ParameterError,
    SoundryError,
    UnsupportedFormatError,
)

if _TYPE_CHECKING:
    from soundry.engine.analysis import Analysis, analyze
    from soundry.engine.export import export, export_files
    from soundry.engine.mastering import (
        MasterReport,
        MasterSettings,
        master,
        master_album,
        master_previews,
    )
    from soundry.engine.resize import Candidate, resize

__version__ = "0.1.0"

_LAZY = {
    "Analysis": "soundry.engine.analysis",
    "analyze": "soundry.engine.analysis",
    "Candidate": "soundry.engine.resize",
    "export": "soundry.engine.export",
    "export_files": "soundry.engine.export",
    "MasterReport": "soundry.engine.mastering",
    "MasterSettings": "soundry.engine.mastering",
    "master": "soundry.engine.mastering",
    "master_album": "soundry.engine.mastering",
    "master_previews": "soundry.engine.mastering",
    "resize": "soundry.engine.resize",
}

__all__ = [
    "Analysis",
    "AudioBuffer",
    "Candidate",
    "DecodeError",
    "EncodeError",
    "MasterReport",
    "MasterSettings",
    "ParameterError",
    "SoundryError",
    "SourceFormat",
    "UnsupportedFormatError",
    "__version__",
    "analyze",
    "export",
    "export_files",
    "master",
    "master_album",
    "master_previews",
    "resize",
]


def __getattr__(name: str) -> _Any:
    if name in _LAZY:
        value = getattr(_importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'soundry' has no attribute {name!r}")
