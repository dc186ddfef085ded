"""``soundry.master`` end to end, measured with our own meter on generated and real music."""

from __future__ import annotations

import json

import numpy as np
import pytest

from soundry.audio import AudioBuffer
from soundry.dsp.loudness import integrated_loudness, true_peak_dbtp
from soundry.dsp.spectrum import band_levels_db
from soundry.engine.mastering import MasterSettings, master
from soundry.engine.mastering.streamed import master_buffer, render_excerpt, render_master
from soundry.errors import ParameterError

from .conftest import relative_bands

# Bands 2..14 of the 16 (about 40 Hz to 12 kHz): where every test signal has energy.
MUSICAL_BANDS = slice(2, 15)


@pytest.mark.parametrize("target_lufs", [-16.0, -14.0, -10.0])
def test_real_music_reaches_target_under_ceiling(
    real_music: AudioBuffer, target_lufs: float
) -> None:
    out, report = master(real_music, target_lufs=target_lufs, ceiling_dbtp=-1.0)
    measured = integrated_loudness(out.samples, out.sample_rate)
    assert measured == pytest.approx(target_lufs, abs=0.3)
    assert true_peak_dbtp(out.samples, out.sample_rate) <= -1.0
    assert report.target["reached"] is True
    assert report.after["loudness"]["integrated_lufs"] == pytest.approx(measured, abs=1e-6)


@pytest.mark.parametrize(("preset", "lufs"), [("LOW", -16.0), ("MEDIUM", -14.0), ("HIGH", -10.0)])
def test_tonn_presets(song: AudioBuffer, preset: str, lufs: float) -> None:
    out, report = master(song, target_lufs=preset)
    assert report.target["target_lufs"] == lufs
    assert integrated_loudness(out.samples, out.sample_rate) == pytest.approx(lufs, abs=0.3)


def test_unreachable_target_is_reported_not_distorted(classical: AudioBuffer) -> None:
    out, report = master(classical, target_lufs=-6.0, ceiling_dbtp=-1.0)
    assert true_peak_dbtp(out.samples, out.sample_rate) <= -1.0
    limiter = report.gain_reduction["limiter"]
    assert limiter["max_gain_reduction_db"] <= 15.5
    assert limiter["mean_gain_reduction_db"] <= 4.5
    # Quiet, dynamic strings cannot reach -6 LUFS sanely: the report must say so.
    assert report.target["reached"] is False
    assert "crush the dynamics" in report.target["note"]
    assert report.target["integrated_lufs"] < -7.0


def test_silence_in_silence_out() -> None:
    silence = AudioBuffer(np.zeros((2, 44_100 * 3), dtype=np.float32), 44_100)
    out, report = master(silence)
    assert not np.any(out.samples)
    assert report.target["reached"] is False
    assert "silent" in report.target["note"]


def test_mono_stays_mono_and_dual_mono_stays_identical(song: AudioBuffer) -> None:
    mono = song.with_samples(song.samples.mean(axis=0, keepdims=True))
    out, _ = master(mono, stereo_image=True, profile="a")
    assert out.channels == 1
    dual = song.with_samples(np.repeat(mono.samples, 2, axis=0))
    out2, _ = master(dual, stereo_image=True, profile="a")
    assert np.array_equal(out2.samples[0], out2.samples[1])


def test_no_dc_offset(song: AudioBuffer) -> None:
    offset = song.with_samples(song.samples + np.float32(0.1))
    out, _ = master(offset)
    assert abs(float(out.samples[:, out.sample_rate :].mean())) < 1e-3


def test_settings_reapplied_give_the_same_output_bit_for_bit(song: AudioBuffer) -> None:
    settings = MasterSettings(profile="c", intensity=70, stereo_image=True)
    mastered, streamed = master_buffer(song, settings)
    again = render_master(song.samples, streamed.plan)
    assert np.array_equal(again, mastered.samples)
    mastered2, streamed2 = master_buffer(song, settings)
    assert streamed2.plan.to_dict() == streamed.plan.to_dict()
    assert np.array_equal(mastered2.samples, mastered.samples)


def test_excerpt_render_equals_the_full_render(song: AudioBuffer) -> None:
    mastered, streamed = master_buffer(song, MasterSettings(profile="a", stereo_image=True))
    rate = song.sample_rate
    start, stop = 8 * rate, 16 * rate
    excerpt = render_excerpt(song.samples, streamed.plan, start_frame=start, stop_frame=stop)
    assert np.array_equal(excerpt, mastered.samples[:, start:stop])


def test_intensity_zero_leaves_the_tonal_balance(real_music: AudioBuffer) -> None:
    _, report = master(real_music, profile="a", intensity=0)
    before = relative_bands(report.before["eq_levels_db"])[MUSICAL_BANDS]
    after = relative_bands(report.after["eq_levels_db"])[MUSICAL_BANDS]
    assert np.max(np.abs(after - before)) < 0.5


def test_bright_and_dark_profiles_move_the_top_end(real_music: AudioBuffer) -> None:
    def top_minus_mid(samples: np.ndarray) -> float:
        levels = band_levels_db(samples, real_music.sample_rate, n_bands=16)
        return float(levels[12:15].mean() - levels[6:9].mean())

    neutral, _ = master(real_music, profile=None)
    bright, _ = master(real_music, profile="a")
    dark, _ = master(real_music, profile="g")
    assert top_minus_mid(bright.samples) > top_minus_mid(neutral.samples) + 0.5
    assert top_minus_mid(dark.samples) < top_minus_mid(bright.samples) - 0.5


def test_style_picks_a_profile(song: AudioBuffer) -> None:
    _, report = master(song, style="hiphop_grime")
    assert report.settings["tonal"]["profile"] in tuple("cde")


def test_report_has_the_dolby_metrics_and_is_json(song: AudioBuffer) -> None:
    _, report = master(song, stereo_image=True)
    data = json.loads(report.to_json())
    assert len(data["eq_band_centres_hz"]) == 16
    for side in ("before", "after"):
        assert len(data[side]["eq_levels_db"]) == 16
        assert set(data[side]["stereo_width"]) >= {"low", "mid", "high"}
        assert set(data[side]["loudness"]) >= {"integrated_lufs", "lra_lu", "true_peak_dbtp"}
    assert data["gain_reduction"]["limiter"]["max_gain_reduction_db"] >= 0
    assert data["settings"]["settings"]["stereo_image"] is True
    assert data["media_info"] is None  # generated, not decoded


@pytest.mark.parametrize(
    "kwargs",
    [
        {"target_lufs": -30.0},
        {"target_lufs": "LOUDEST"},
        {"ceiling_dbtp": 1.0},
        {"profile": "z"},
        {"intensity": 120},
        {"style": "POLKA"},
    ],
)
def test_bad_arguments_are_rejected(song: AudioBuffer, kwargs: dict[str, object]) -> None:
    with pytest.raises(ParameterError):
        master(song, **kwargs)  # type: ignore[arg-type]


def test_too_many_channels_or_too_short() -> None:
    with pytest.raises(ParameterError, match="mono or stereo"):
        master(AudioBuffer(np.zeros((6, 48_000), dtype=np.float32), 48_000))
    with pytest.raises(ParameterError, match="at least 1 s"):
        master(AudioBuffer(np.zeros((2, 4_800), dtype=np.float32), 48_000))


def test_reference_mastering_moves_toward_the_reference(real_music: AudioBuffer) -> None:
    from soundry.dsp.filters import apply_sos, high_shelf
    from soundry.engine.mastering.tonal import measure_balance_db

    rate = real_music.sample_rate
    half = real_music.frames // 2
    reference = real_music.with_samples(real_music.samples[:, :half])
    dark = apply_sos(real_music.samples[:, half:], high_shelf(2500.0, -8.0, rate))
    track = real_music.with_samples(dark * np.float32(0.5))

    def distance(audio: np.ndarray) -> float:
        gap = measure_balance_db(audio, rate) - measure_balance_db(reference.samples, rate)
        return float(np.abs(gap).mean())

    full, report = master(track, reference=reference, reference_blend=100)
    none, _ = master(track, reference=reference, reference_blend=0)
    assert distance(full.samples) < 0.6 * distance(track.samples)
    assert abs(distance(none.samples) - distance(track.samples)) < 0.3
    reference_lufs = integrated_loudness(reference.samples, rate)
    assert report.target["target_lufs"] == pytest.approx(reference_lufs, abs=0.05)
    assert integrated_loudness(full.samples, rate) == pytest.approx(reference_lufs, abs=0.3)
    assert report.settings["reference"]["integrated_lufs"] == pytest.approx(
        reference_lufs, abs=0.05
    )
