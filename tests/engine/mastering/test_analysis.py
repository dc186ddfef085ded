"""The shared source analysis and the gain decision made from it."""

from __future__ import annotations

import numpy as np
import pytest

from soundry.audio import AudioBuffer
from soundry.audio.stream import ArraySource
from soundry.audio.synth import demo_song
from soundry.dsp.loudness import integrated_loudness
from soundry.engine.mastering import analysis as analysis_module
from soundry.engine.mastering.analysis import analyse_source, dc_block
from soundry.engine.mastering.image import usable_edges
from soundry.engine.mastering.multiband import CROSSOVER_HZ, band_block_powers
from soundry.engine.mastering.prediction import predict_band_powers, tonal_band_gains
from soundry.engine.mastering.profiles import profile_for
from soundry.engine.mastering.settings import MasterSettings
from soundry.engine.mastering.spectra import mid_side_spectra
from soundry.engine.mastering.streamed import master_buffer
from soundry.engine.mastering.tonal import apply_tonal, frame_band_powers, plan_tonal


@pytest.fixture(scope="module")
def long_song() -> AudioBuffer:
    return demo_song(duration_s=75.0, seed=5)


def test_chunked_analysis_equals_one_pass(
    long_song: AudioBuffer, monkeypatch: pytest.MonkeyPatch
) -> None:
    rate = long_song.sample_rate
    x = dc_block(long_song.samples, rate)
    whole_powers, whole_ms, _ = frame_band_powers(x, rate)
    whole_bands = band_block_powers(x, rate, usable_edges(CROSSOVER_HZ, rate), 0)
    monkeypatch.setattr(analysis_module, "_CHUNK_S", 20.0)  # four chunks, not one
    result = analyse_source(ArraySource(long_song.samples, rate))
    assert result.tonal_powers.shape == whole_powers.shape
    np.testing.assert_allclose(result.tonal_powers, whole_powers, rtol=1e-4, atol=1e-12)
    np.testing.assert_allclose(result.tonal_mean_square, whole_ms, rtol=1e-4, atol=1e-12)
    assert result.band_powers.shape == whole_bands.shape
    loud = whole_bands > whole_bands.max() * 1e-6
    np.testing.assert_allclose(result.band_powers[loud], whole_bands[loud], rtol=1e-3)
    _, p_mid, p_side = mid_side_spectra(x, rate)
    assert result.mid_side is not None
    # Chunks split the Welch segments differently: the long-term spectra agree closely.
    assert abs(result.mid_side[1].sum() / p_mid.sum() - 1) < 0.02
    assert abs(result.mid_side[2].sum() / p_side.sum() - 1) < 0.02


def test_predicted_band_powers_follow_the_tonal_stage(long_song: AudioBuffer) -> None:
    """The multiband stage is planned from the source's band powers scaled by the tonal
    plan's gain per band: close to measuring them on the tonal stage's output."""
    rate = long_song.sample_rate
    blocked = dc_block(long_song.samples, rate)
    analysis = analyse_source(ArraySource(blocked, rate), dc_blocked=True)
    plan = plan_tonal(blocked, rate, profile=profile_for("b", None), intensity=100)
    edges = usable_edges(CROSSOVER_HZ, rate)
    predicted = predict_band_powers(analysis, tonal_band_gains(analysis, plan, edges))
    actual = band_block_powers(apply_tonal(blocked, rate, plan), rate, edges, 0)
    for band in range(3):
        # Compare one-second energies where the band has something in it.
        seconds = actual.shape[1] // 1000
        a = actual[band, : seconds * 1000].reshape(seconds, 1000).sum(axis=1)
        p = predicted[band, : seconds * 1000].reshape(seconds, 1000).sum(axis=1)
        s = analysis.band_powers[band, : seconds * 1000].reshape(seconds, 1000).sum(axis=1)
        active = a > a.max() * 1e-3
        error_db = np.abs(10 * np.log10(p[active] / a[active]))
        moved_db = np.abs(10 * np.log10(s[active] / a[active]))
        assert np.median(error_db) < 0.5
        # Profile b moves every band (by 0.4-4 dB here); the prediction is much closer than
        # ignoring the tonal stage would be.
        assert np.median(moved_db) > 0.3
        assert np.median(error_db) < 0.5 * np.median(moved_db)


@pytest.mark.parametrize("target", [-16.0, -14.0, -10.0])
def test_decided_gain_lands_on_the_target(long_song: AudioBuffer, target: float) -> None:
    settings = MasterSettings(target_lufs=target, profile="i")
    mastered, streamed = master_buffer(long_song, settings)
    measured = integrated_loudness(mastered.samples, long_song.sample_rate)
    assert abs(measured - target) <= 0.3
    # The prediction itself was used, not a correction: previews share this gain.
    assert streamed.plan.gain_db == streamed.decision.gain_db
    assert abs(streamed.decision.predicted_lufs - target) < 0.01
