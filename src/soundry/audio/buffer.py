"""The in-memory audio type every part of Soundry passes around."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from soundry.errors import ParameterError

__all__ = ["MAX_SAMPLE_RATE", "MIN_SAMPLE_RATE", "AudioBuffer", "SourceFormat"]

MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 192_000


@dataclass(frozen=True, slots=True)
class SourceFormat:
    """Facts about the file a buffer was decoded from.

    Attributes
    ----------
    container : str
        Container or file type, e.g. ``"wav"``, ``"flac"``, ``"mp3"``, ``"mp4"``, ``"ogg"``.
    codec : str
        Codec name, e.g. ``"pcm_s24le"``, ``"flac"``, ``"mp3"``, ``"aac"``, ``"vorbis"``.
    sample_rate : int
        Sample rate of the stored audio in Hz.
    channels : int
        Number of stored channels.
    duration_s : float
        Duration in seconds.
    bit_depth : int or None
        Bits per sample for PCM-like codecs (16, 24, 32, 64); None for lossy codecs.
    sample_format : str or None
        ``"int"`` or ``"float"`` for PCM; None for lossy codecs.
    bitrate_bps : int or None
        Average bitrate in bits per second, when known.
    size_bytes : int or None
        Size of the source file in bytes, when known.
    warnings : tuple of str
        Problems the decoder worked around, e.g. a truncated file whose header promised
        more audio than it holds. Empty for a clean file.
    """

    container: str
    codec: str
    sample_rate: int
    channels: int
    duration_s: float
    bit_depth: int | None = None
    sample_format: str | None = None
    bitrate_bps: int | None = None
    size_bytes: int | None = None
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """The facts as a JSON-ready dict."""
        return {
            "container": self.container,
            "codec": self.codec,
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "duration_s": self.duration_s,
            "bit_depth": self.bit_depth,
            "sample_format": self.sample_format,
            "bitrate_bps": self.bitrate_bps,
            "size_bytes": self.size_bytes,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class AudioBuffer:
    """Decoded audio: float32 samples of shape ``(channels, frames)`` at ``sample_rate`` Hz.

    Samples are nominally in [-1, 1]; values outside are allowed (floating-point headroom)
    but must be finite. The array is stored C-contiguous so that per-channel rows are
    contiguous for numba kernels.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames), dtype=float32]
        The audio. A 1-D array is taken as mono and reshaped to ``(1, frames)``.
    sample_rate : int
        Sample rate in Hz, from 8 000 to 192 000.
    source : SourceFormat or None
        What the audio was decoded from, if it came from a file.
    """

    samples: np.ndarray
    sample_rate: int
    source: SourceFormat | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples)
        if samples.ndim == 1:
            samples = samples[np.newaxis, :]
        if samples.ndim != 2:
            raise ParameterError(
                f"audio samples must have shape (channels, frames); got {samples.shape}"
            )
        if samples.shape[0] < 1:
            raise ParameterError("audio must have at least one channel")
        if samples.dtype != np.float32 or not samples.flags.c_contiguous:
            samples = np.ascontiguousarray(samples, dtype=np.float32)
        rate = int(self.sample_rate)
        if rate != self.sample_rate or not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
            raise ParameterError(
                f"sample rate must be an integer from {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz;"
                f" got {self.sample_rate}"
            )
        object.__setattr__(self, "samples", samples)
        object.__setattr__(self, "sample_rate", rate)

    @property
    def channels(self) -> int:
        """Number of channels."""
        return int(self.samples.shape[0])

    @property
    def frames(self) -> int:
        """Number of sample frames (samples per channel)."""
        return int(self.samples.shape[1])

    @property
    def duration_s(self) -> float:
        """Duration in seconds."""
        return self.frames / self.sample_rate

    def with_samples(self, samples: np.ndarray, sample_rate: int | None = None) -> AudioBuffer:
        """A new buffer with other samples (and optionally rate), keeping the source facts."""
        return replace(
            self,
            samples=samples,
            sample_rate=self.sample_rate if sample_rate is None else sample_rate,
        )
