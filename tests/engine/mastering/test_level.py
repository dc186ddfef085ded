"""Loudness loop: lands on the target under the ceiling, and re-applying its gain gives the
same samples bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from soundry.audio import AudioBuffer
from soundry.dsp.limiter import detector_envelope, limit
from soundry.dsp.loudness import integrated_loudness, true_peak_dbtp
from soundry.engine.mastering.level import apply_level, reach_loudness


@pytest.mark.parametrize("target", [-16.0, -12.0, -9.0])
def test_reaches_target_and_reapplies_bit_for_bit_on_generated_music(
    song: AudioBuffer, target: float
) -> None:
    x, rate = song.samples, song.sample_rate
    result = reach_loudness(x, sample_rate=rate, target_lufs=target, ceiling_dbtp=-1.0)
    assert result.reached, result.note
    assert abs(result.integrated_lufs - target) <= 0.05
    # The reported figures are measurements of the returned samples.
    assert result.integrated_lufs == integrated_loudness(result.samples, rate)
    assert result.true_peak_dbtp == true_peak_dbtp(result.samples, rate) <= -1.0
    again, _ = apply_level(x, sample_rate=rate, gain_db=result.gain_db, ceiling_dbtp=-1.0)
    assert np.array_equal(again, result.samples)


@pytest.mark.parametrize("target", [-14.0, -10.0])
def test_reaches_target_and_reapplies_bit_for_bit_on_real_music(
    real_music: AudioBuffer, target: float
) -> None:
    x, rate = real_music.samples, real_music.sample_rate
    result = reach_loudness(x, sample_rate=rate, target_lufs=target, ceiling_dbtp=-1.0)
    assert result.reached, result.note
    assert abs(result.integrated_lufs - target) <= 0.05
    assert result.true_peak_dbtp <= -1.0
    assert result.limiter is not None and result.limiter.max_gain_reduction_db > 0.5
    again, report = apply_level(x, sample_rate=rate, gain_db=result.gain_db, ceiling_dbtp=-1.0)
    assert np.array_equal(again, result.samples)
    assert report.max_gain_reduction_db == result.limiter.max_gain_reduction_db


def test_a_given_envelope_changes_nothing(real_music: AudioBuffer) -> None:
    x, rate = real_music.samples, real_music.sample_rate
    envelope = detector_envelope(x, rate)
    for gain_db in (0.0, 4.0, 9.5):
        plain = limit(x, sample_rate=rate, gain_db=gain_db)
        reused = limit(x, sample_rate=rate, gain_db=gain_db, envelope=envelope)
        assert np.array_equal(plain, reused)
        assert true_peak_dbtp(reused, rate) <= -1.0


def test_crushing_is_refused_with_a_note(real_music: AudioBuffer) -> None:
    x, rate = real_music.samples, real_music.sample_rate
    result = reach_loudness(
        x, sample_rate=rate, target_lufs=-6.0, ceiling_dbtp=-1.0, max_mean_limiting_db=2.0
    )
    assert not result.reached
    assert "crush" in result.note
    assert result.integrated_lufs == integrated_loudness(result.samples, rate)
    assert result.true_peak_dbtp <= -1.0
