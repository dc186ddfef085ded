"""Masters delivered as lossy files keep their true-peak ceiling.

MP3 and AAC encoders reconstruct peaks a little higher than the signal they were given (by
0.4-1 dB at -10 LUFS here). The only honest check is to decode what was encoded and measure
it, then master again under a lower limiter ceiling by the overshoot until the decoded file
holds the ceiling the user asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from soundry.audio.buffer import AudioBuffer
from soundry.audio.decode import decode
from soundry.audio.encode import encode
from soundry.dsp.loudness import true_peak_dbtp
from soundry.engine.mastering.output import OutputFormat
from soundry.engine.mastering.settings import MIN_CEILING_DBTP, MasterSettings
from soundry.engine.mastering.streamed import StreamedMaster, master_buffer, measure_reference
from soundry.errors import EncodeError

__all__ = ["LOSSY_FORMATS", "Delivery", "master_for_delivery"]

LOSSY_FORMATS = frozenset({"mp3", "aac", "ogg"})
_MAX_ATTEMPTS = 3
_MARGIN_DB = 0.1  # under the measured overshoot, so the next attempt lands inside


@dataclass(frozen=True)
class Delivery:
    """A master and its encoded file, with the true peak measured on the decoded file."""

    audio: AudioBuffer
    streamed: StreamedMaster
    encoded: bytes
    delivered_true_peak_dbtp: float
    limiter_ceiling_dbtp: float
    attempts: int


def _encode_bytes(audio: AudioBuffer, output: OutputFormat) -> bytes:
    encoded = encode(audio, None, **output.encode_options())  # type: ignore[arg-type]
    if not isinstance(encoded, bytes):  # encode returns bytes when given no destination
        raise EncodeError(f"the {output.format} encoder returned no bytes")
    return encoded


def master_for_delivery(
    source: AudioBuffer,
    settings: MasterSettings,
    output: OutputFormat,
    *,
    reference: AudioBuffer | None = None,
) -> Delivery:
    """Master ``source`` and encode it so that the decoded file stays under the ceiling.

    Parameters
    ----------
    source : AudioBuffer
        The mix, already at the output rate.
    settings : MasterSettings
        What to make; ``settings.ceiling_dbtp`` is held in the decoded output file.
    output : OutputFormat
        The file format. For lossless formats one pass is enough.
    reference : AudioBuffer or None
        Reference track for reference mastering.

    Returns
    -------
    Delivery
        The master of the final attempt and what it did, the encoded bytes and what was
        measured.
    """
    ceiling = settings.ceiling_dbtp
    attempt_settings = settings
    # The reference is measured once, whatever the number of attempts.
    targets = None if reference is None else measure_reference(reference)
    for attempt in range(1, _MAX_ATTEMPTS + 1):
        audio, streamed = master_buffer(source, attempt_settings, reference=targets)
        encoded = _encode_bytes(audio, output)
        if output.format not in LOSSY_FORMATS:
            measured = streamed.loudness.true_peak_dbtp
            break
        decoded = decode(encoded)
        measured = true_peak_dbtp(decoded.samples, decoded.sample_rate)
        overshoot = measured - ceiling
        lowest = attempt_settings.ceiling_dbtp <= MIN_CEILING_DBTP
        if overshoot <= 0 or attempt == _MAX_ATTEMPTS or lowest:
            break
        lowered = max(MIN_CEILING_DBTP, attempt_settings.ceiling_dbtp - overshoot - _MARGIN_DB)
        attempt_settings = replace(attempt_settings, ceiling_dbtp=lowered)
    return Delivery(audio, streamed, encoded, measured, attempt_settings.ceiling_dbtp, attempt)
