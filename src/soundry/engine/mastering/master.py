"""``soundry.master``: one call from a mix to a finished master and its report."""

from __future__ import annotations

from soundry.audio.buffer import AudioBuffer
from soundry.audio.resample import resample
from soundry.engine.mastering.report import MasterReport
from soundry.engine.mastering.settings import MasterSettings
from soundry.engine.mastering.streamed import check_masterable, master_buffer, measure_reference

__all__ = ["master", "prepare_input"]


def prepare_input(audio: AudioBuffer, *, sample_rate: int | None = None) -> AudioBuffer:
    """Check that ``audio`` can be mastered and bring it to ``sample_rate`` if asked.

    Resampling comes first so the limiter works at the output rate: resampling after it
    would create new inter-sample peaks over the ceiling.
    """
    check_masterable(audio.channels, audio.frames, audio.sample_rate)
    if sample_rate is not None and sample_rate != audio.sample_rate:
        return resample(audio, sample_rate)
    return audio


def master(
    audio: AudioBuffer,
    *,
    target_lufs: float | str = -14.0,
    ceiling_dbtp: float = -1.0,
    profile: str | None = None,
    intensity: float = 100.0,
    style: str | None = None,
    stereo_image: bool = False,
    dynamics: bool = True,
    reference: AudioBuffer | None = None,
    reference_blend: float = 100.0,
    sample_rate: int | None = None,
) -> tuple[AudioBuffer, MasterReport]:
    """Master a stereo (or mono) mix.

    Parameters
    ----------
    audio : AudioBuffer
        The mix, shape (1 or 2, frames).
    target_lufs : float or str
        Integrated loudness, -24 to -6 LUFS, or a preset: "LOW" (-16), "MEDIUM" (-14),
        "HIGH" (-10).
    ceiling_dbtp : float
        True-peak ceiling, dBTP.
    profile : str or None
        Tonal profile "a".."n".
    intensity : float
        Share of the tonal adjustment applied, 0-100.
    style : str or None
        Tonn musical style; picks a profile when ``profile`` is None.
    stereo_image : bool
        Balance the stereo width per band.
    dynamics : bool
        Gentle multiband dynamics control.
    reference : AudioBuffer or None
        A track whose tonal balance, loudness and width to move toward.
    reference_blend : float
        How far toward the reference, 0-100.
    sample_rate : int or None
        Output rate in Hz; default the input's.

    Returns
    -------
    master : AudioBuffer
        Same channels as the input; ``source`` facts kept so the output format can follow.
    report : MasterReport
        Before/after loudness, EQ levels and width, gain reduction, the chosen settings.
    """
    settings = MasterSettings(
        target_lufs=target_lufs,  # type: ignore[arg-type]  # presets resolved on construction
        ceiling_dbtp=ceiling_dbtp,
        profile=profile,
        intensity=intensity,
        style=style,
        stereo_image=stereo_image,
        dynamics=dynamics,
        reference_blend=reference_blend,
    )
    source = prepare_input(audio, sample_rate=sample_rate)
    targets = None if reference is None else measure_reference(reference)
    mastered, streamed = master_buffer(source, settings, reference=targets)
    media_info = None if source.source is None else source.source.to_dict()
    return mastered, MasterReport.from_streamed(streamed, media_info)
