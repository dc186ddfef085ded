"""Soundry: a self-hosted audio production engine."""

from soundry.audio.buffer import AudioBuffer, SourceFormat
from soundry.errors import (
    DecodeError,
    EncodeError,
    ParameterError,
    SoundryError,
    UnsupportedFormatError,
)

__version__ = "0.1.0"

__all__ = [
    "AudioBuffer",
    "DecodeError",
    "EncodeError",
    "ParameterError",
    "SoundryError",
    "SourceFormat",
    "UnsupportedFormatError",
    "__version__",
]
