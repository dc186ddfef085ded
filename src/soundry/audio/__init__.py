"""Audio in and out: the :class:`AudioBuffer` type, decoding, encoding and resampling."""

from soundry.audio.buffer import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, AudioBuffer, SourceFormat
from soundry.audio.decode import MAX_DECODED_BYTES, MAX_DURATION_S, decode, probe
from soundry.audio.encode import ENCODE_FORMATS, encode
from soundry.audio.resample import RESAMPLE_QUALITIES, resample

__all__ = [
    "ENCODE_FORMATS",
    "MAX_DECODED_BYTES",
    "MAX_DURATION_S",
    "MAX_SAMPLE_RATE",
    "MIN_SAMPLE_RATE",
    "RESAMPLE_QUALITIES",
    "AudioBuffer",
    "SourceFormat",
    "decode",
    "encode",
    "probe",
    "resample",
]
