"""Seams on generated signals: bit-exact contiguous spans, no clicks, steady loudness,
attacks kept, timing kept, alignment, fade laws, endings."""

from __future__ import annotations

import numpy as np
import pytest

from soundry.audio import AudioBuffer
from soundry.engine.export import SeamSettings, measure_seams, stitch
from soundry.engine.export.seams import crossfade_gains

from .signals import RATE, click_track, sine


def _rms_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.asarray(x, np.float64) ** 2))


def test_contiguous_segments_are_bit_identical_to_the_source() -> None:
    audio, _ = click_track()
    out = stitch(audio, [[2.0, 5.0], [5.0, 7.5], [7.5, 9.0]])
    assert out.seams == ()
    # Only the 5 ms fade-in at the start and the fade-out at the end are mixed.
    (_, body_start), (body_end, _) = out.mixed
    assert body_start == round(0.005 * RATE)
    body = out.audio.samples[:, body_start:body_end]
    assert body.shape[1] > 6.8 * RATE
    # The body is one run of source samples, starting within the onset search of 2.0 s.
    near = round(2.0 * RATE)
    starts = [
        c
        for c in range(near - round(0.04 * RATE), near + round(0.04 * RATE))
        if np.array_equal(audio.samples[:, c : c + body.shape[1]], body)
    ]
    assert len(starts) == 1


def test_whole_file_as_one_or_many_contiguous_segments_is_the_file() -> None:
    audio, _ = click_track(beats=10)
    d = audio.duration_s
    for group in ([[0.0, d]], [[0.0, 1.0], [1.0, 2.5], [2.5, d]]):
        out = stitch(audio, group)
        assert out.mixed == () and out.seams == ()
        assert np.array_equal(out.audio.samples, audio.samples)


def test_two_sines_of_different_phase_do_not_click() -> None:
    # 440 Hz, jumping to a point where the phase is opposite: a hard splice steps by
    # nearly twice the amplitude; the seam must stay within the sine's own largest step.
    x = sine(440.0, 4.0)
    audio = AudioBuffer(np.stack([x, x]), RATE)
    quarter = 1.0 / 1760.0  # cut at the crest, resume at the trough
    out = stitch(audio, [[0.0, 1.0 + quarter], [2.0 + 3 * quarter, 3.0]])
    own_step = float(np.abs(np.diff(x)).max())
    naive = np.concatenate(
        [x[: round((1.0 + quarter) * RATE)], x[round((2.0 + 3 * quarter) * RATE) :]]
    )
    assert np.abs(np.diff(naive)).max() > 10 * own_step  # the splice itself would click
    assert np.abs(np.diff(out.audio.samples, axis=1)).max() <= own_step * 1.01
    # Aligned (correlation near 1, linear law): the level does not dip at the seam.
    seam = out.seams[0]
    assert seam.correlation > 0.95
    at = round(seam.position_s * RATE)
    fade = out.audio.samples[0, at - round(0.025 * RATE) : at + round(0.07 * RATE)]
    assert abs(_rms_db(fade) - _rms_db(x)) < 0.2


def test_unrelated_sines_keep_their_power_through_an_equal_power_fade() -> None:
    a, b = sine(300.0, 3.0), sine(523.0, 3.0, phase=1.0)
    x = np.concatenate([a, b])
    audio = AudioBuffer(np.stack([x, x]), RATE)
    out = stitch(audio, [[0.0, 2.0], [4.0, 5.0]], settings=SeamSettings(max_lag_ms=0.0))
    seam = out.seams[0]
    assert seam.correlation < 0.1
    at = round(seam.position_s * RATE)
    n = round(seam.crossfade_ms / 1000 * RATE)
    mid = out.audio.samples[0, at - 2 * n // 3 : at - n // 3]
    # Equal power: the middle of the fade is as loud as either sine; linear would be -3 dB.
    assert abs(_rms_db(mid) - _rms_db(a)) < 1.0
    # Mid-fade both sines sound at 0.71: steps may reach sqrt(2) x the larger sine's own step,
    # nowhere near a splice's (up to twice the amplitude, 1.0).
    step = max(np.abs(np.diff(a)).max(), np.abs(np.diff(b)).max())
    assert np.abs(np.diff(out.audio.samples, axis=1)).max() <= step * np.sqrt(2)


@pytest.mark.parametrize("rho", [0.0, 0.4, 1.0])
def test_fade_law_keeps_the_power_of_signals_with_that_correlation(rho: float) -> None:
    g_in, g_out = crossfade_gains(900, 0, rho, 0.0)
    power = g_in**2 + g_out**2 + 2 * rho * g_in * g_out
    assert np.allclose(power, 1.0)
    assert g_in[0] < 0.01 and g_out[-1] < 0.01 and np.all(np.diff(g_in) >= 0)
    if rho == 1.0:
        assert np.allclose(g_in + g_out, 1.0)  # linear
    if rho == 0.0:
        assert np.allclose(g_in**2 + g_out**2, 1.0)  # equal power


def test_the_tail_rings_under_a_full_incoming_side_without_steps() -> None:
    g_in, g_out = crossfade_gains(900, 2600, 0.0, 0.25)
    assert np.all(g_in[900:] == 1.0)
    assert g_out[899] == pytest.approx(0.25, abs=0.01) and g_out[-1] < 1e-3
    assert np.abs(np.diff(g_out)).max() < 0.01 and np.abs(np.diff(g_in)).max() < 0.01
    # Power stays within +0.3 dB for unrelated sides (the tail's -12 dB adds 0.26 dB).
    assert 10 * np.log10((g_in**2 + g_out**2).max()) < 0.3


def test_the_incoming_attack_is_kept_intact_and_the_beat_timing_holds() -> None:
    audio, attacks = click_track(offset_s=0.013)
    beat_s = 0.5
    # Nominal cuts on the beat grid; the attacks are 13 ms later.
    out = stitch(audio, [[0.0, 8 * beat_s], [20 * beat_s, 30 * beat_s]])
    seam = out.seams[0]
    assert seam.onsets_found == (True, True)
    lead = SeamSettings().lead_ms / 1000
    assert seam.in_s == pytest.approx(attacks[20] - lead, abs=0.0015)
    assert seam.out_s == pytest.approx(attacks[8] - lead, abs=0.0015)
    # The output's attack after the seam is where the outgoing side's next one would be:
    # the inter-onset interval across the seam stays 500 ms (within the alignment lag).
    at_out = seam.position_s + (attacks[20] - seam.in_s)
    assert at_out == pytest.approx(attacks[8], abs=0.006)
    # After the tail, every sample is the source's own.
    tail_end = round((seam.position_s + seam.tail_ms / 1000) * RATE) + 1
    src_at = round(seam.in_s * RATE) + tail_end - round(seam.position_s * RATE)
    n = RATE
    assert np.array_equal(
        out.audio.samples[:, tail_end : tail_end + n], audio.samples[:, src_at : src_at + n]
    )
    # The attack itself is at full level: its first 2 ms match the source within the tail's
    # small contribution (-12 dB and falling).
    k = round((attacks[20] - seam.in_s) * RATE) + round(seam.position_s * RATE)
    j = round(attacks[20] * RATE)
    got = _rms_db(out.audio.samples[0, k : k + 88])
    want = _rms_db(audio.samples[0, j : j + 88])
    assert abs(got - want) < 1.5


def test_alignment_finds_the_lag_that_puts_the_bass_in_phase() -> None:
    # A bass with harmonics; the incoming point is 3 ms out of phase with the outgoing one.
    t = np.arange(6 * RATE) / RATE
    x = (0.3 * np.sin(2 * np.pi * 55 * t) + 0.1 * np.sin(2 * np.pi * 165 * t)).astype(np.float32)
    audio = AudioBuffer(np.stack([x, x]), RATE)
    period = 1 / 55
    start_b = 1.0 + 40 * period + 0.003
    aligned = stitch(audio, [[0.0, 1.0], [start_b, 5.0]])
    seam = aligned.seams[0]
    assert seam.lag_ms == pytest.approx(-3.0, abs=0.1)
    assert seam.correlation > 0.99
    unaligned = stitch(audio, [[0.0, 1.0], [start_b, 5.0]], settings=SeamSettings(max_lag_ms=0))
    assert unaligned.seams[0].correlation < seam.correlation - 0.05


def test_sustained_material_gets_the_long_fade_and_attacks_the_short_one() -> None:
    audio, _ = click_track()
    t = np.arange(audio.frames) / RATE
    pad = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.2 * np.sin(2 * np.pi * 0.3 * t))
    pad_audio = AudioBuffer(np.stack([pad, pad]).astype(np.float32), RATE)
    settings = SeamSettings()
    assert stitch(audio, [[0, 4.0], [10.0, 12.0]]).seams[0].crossfade_ms == pytest.approx(
        settings.crossfade_ms, abs=0.05
    )
    assert stitch(pad_audio, [[0, 4.0], [10.0, 12.0]]).seams[0].crossfade_ms == pytest.approx(
        settings.sustained_crossfade_ms, abs=0.05
    )


def test_an_early_ending_fades_out_before_the_next_attack() -> None:
    audio, attacks = click_track()
    out = stitch(audio, [[0.0, 4.0]])  # stops on beat 8, whose attack is at 4.013 s
    y = out.audio.samples
    assert out.duration_s < attacks[8]
    assert out.duration_s > attacks[8] - 0.005 - SeamSettings().end_fade_ms / 1000 - 0.002
    assert np.abs(y[:, -5:]).max() < 0.002  # it ends in silence, not a dead cut
    assert np.abs(np.diff(y, axis=1)).max() <= np.abs(np.diff(audio.samples, axis=1)).max()


def test_a_late_start_fades_in_just_before_its_first_attack() -> None:
    audio, attacks = click_track()
    out = stitch(audio, [[5.0, 8.0]])  # beat 10, attack at 5.013 s
    assert out.mixed[0][0] == 0
    assert np.abs(out.audio.samples[:, :3]).max() < 0.01
    # The attack arrives lead + 5 ms fade into the output.
    lead = SeamSettings().lead_ms / 1000
    env = np.abs(out.audio.samples[0])
    first_loud = np.flatnonzero(env > 0.1)[0] / RATE
    assert first_loud == pytest.approx(lead + 0.005, abs=0.003)
    assert out.duration_s == pytest.approx(8.0 - attacks[10] + lead + 0.005, abs=0.04)


def test_no_ghost_of_the_skipped_beat_rings_under_the_incoming_one() -> None:
    # Loud hits on even beats, soft ones (-20 dB) on odd beats, over a quiet drone.
    rng = np.random.default_rng(4)
    beat_s = 0.5
    x = 0.02 * np.sin(2 * np.pi * 110.0 * np.arange(round(21 * beat_s * RATE)) / RATE)
    m = round(0.25 * RATE)
    decay = np.exp(-np.arange(m) / (0.04 * RATE))
    for k in range(20):
        first = round((k * beat_s + 0.013) * RATE)
        x[first : first + m] += (0.3 if k % 2 == 0 else 0.03) * rng.standard_normal(m) * decay
    audio = AudioBuffer(np.stack([x, x]).astype(np.float32), RATE)
    beats = np.arange(20) * beat_s
    # Leave before loud beat 8 and come in on soft beat 15: beat 8 is the skipped one.
    out = stitch(audio, [[0.0, 8 * beat_s], [15 * beat_s, 19 * beat_s]])
    (seam,) = out.seams
    assert seam.onsets_found == (True, True)
    assert seam.tail_ms == 0.0
    # From the cut on, the output is the incoming side's own samples: no ghost hit.
    at = round(seam.position_s * RATE)
    src = round(seam.in_s * RATE)
    n = round(0.3 * RATE)
    assert np.array_equal(out.audio.samples[:, at : at + n], audio.samples[:, src : src + n])
    (q,) = measure_seams(out, audio, beats)
    assert q.flux_z <= max(2.0, q.source_flux_z + 0.25)
    # Sustained material still rings on under the incoming side.
    t = np.arange(audio.frames) / RATE
    pad = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.2 * np.sin(2 * np.pi * 0.3 * t))
    pad_audio = AudioBuffer(np.stack([pad, pad]).astype(np.float32), RATE)
    ringing = stitch(pad_audio, [[0.0, 4.0], [7.5, 9.5]]).seams[0]
    assert ringing.onsets_found[0] is False
    assert ringing.tail_ms == pytest.approx(SeamSettings().tail_ms, abs=0.05)
