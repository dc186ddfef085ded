"""Audio in and out: the :class:`AudioBuffer` type, decoding, encoding and resampling."""

from soundry.audio.buffer import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, AudioBuffer, SourceFormat

__all__ = ["MAX_SAMPLE_RATE", "MIN_SAMPLE_RATE", "AudioBuffer", "SourceFormat"]
