"""The exceptions Soundry raises.

Every error is a :class:`SoundryError`, so one ``except SoundryError`` catches them all::

    SoundryError
    ├── ParameterError       a value passed to a function is out of range or malformed
    ├── DecodeError          a file or byte stream is not audio we can read
    ├── EncodeError          audio could not be written in the requested format
    └── UnsupportedFormatError   a format, codec or option that Soundry does not handle

Messages name the offending value and, where there is one, the likely cause, so that the
CLI and the HTTP API can show them to a person unchanged.
"""

from __future__ import annotations

__all__ = [
    "DecodeError",
    "EncodeError",
    "ParameterError",
    "SoundryError",
    "UnsupportedFormatError",
]


class SoundryError(Exception):
    """Root of every error raised by Soundry."""


class ParameterError(SoundryError, ValueError):
    """Raised when an argument is out of range, of the wrong shape or otherwise malformed."""


class DecodeError(SoundryError):
    """Raised when a file or stream cannot be decoded into audio."""


class EncodeError(SoundryError):
    """Raised when audio cannot be encoded or written."""


class UnsupportedFormatError(DecodeError):
    """Raised when a container, codec or encoder option is not one Soundry handles."""
