"""Seam quality as the issue measures it: flux jump vs the song's beats, clicks, loudness."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from soundry.audio import AudioBuffer, decode
from soundry.audio.synth import demo_song
from soundry.engine.export import Stitched, measure_seams, stitch_groups

TEMPO_BPM = 120.0
VIBE_ACE = "music/librosa-data/Kevin_MacLeod_-_Vibe_Ace.hq.ogg"


def _assert_inaudible(stitched: list[Stitched], source: AudioBuffer, beats_s: np.ndarray) -> int:
    count = 0
    for item in stitched:
        for q in measure_seams(item, source, beats_s):
            where = f"seam at {q.position_s:.2f} s"
            # No more spectral flux than the song's own beats (or than this very beat has
            # where it stands in the song).
            assert q.flux_z <= max(2.0, q.source_flux_z + 0.25), (where, q)
            assert q.step_ratio <= 1.0, (where, q)  # no click
            assert q.loudness_excess_lu <= 1.5, (where, q)
            count += 1
    return count


def _bar_jumps(beats_s: np.ndarray, bars: list[tuple[int, int]], end_s: float) -> list:
    return [[[0.0, float(beats_s[i])], [float(beats_s[j]), end_s]] for i, j in bars]


def test_generated_song_seams_pass_and_a_hard_splice_fails() -> None:
    song = demo_song(duration_s=40.0, tempo_bpm=TEMPO_BPM, seed=3)
    beats = np.arange(0.0, 40.0, 60.0 / TEMPO_BPM)
    # Jumps by whole bars, forwards and back (the song's bars repeat their pattern).
    groups = _bar_jumps(beats, [(16, 40), (40, 16), (24, 56), (60, 28)], 40.0)
    stitched = stitch_groups(song, groups)
    assert _assert_inaudible(stitched, song, beats) == 4

    # The metrics are not blind: a dead cut mid-beat, onto the opposite swing of the
    # waveform and twice as loud, clicks, jumps in flux and in loudness.
    x = song.samples
    cut = round(8.23 * 44_100)
    near = round(20.6 * 44_100)
    resume = near + int(np.argmax(np.abs(x[0, cut - 1] - 2 * x[0, near : near + 2000])))
    hard = np.concatenate([x[:, :cut], 2.0 * x[:, resume:]], axis=1)
    seam = replace(
        stitched[0].seams[0],
        position_s=cut / 44_100,
        out_s=cut / 44_100,
        in_s=resume / 44_100,
        crossfade_ms=0.0,
    )
    fake = Stitched(song.with_samples(hard), (seam,), ((0.0, 8.23), (20.6, 40.0)), ())
    (q,) = measure_seams(fake, song, beats)
    assert q.loudness_excess_lu > 1.5
    assert q.step_ratio > 1.0
    # Mid-beat, where the song has little flux, the splice makes a peak like a drum hit's.
    assert q.flux_z > q.source_flux_z + 2.0
    assert q.flux_percentile > 90.0


def test_real_music_seams_pass(shared_data: Path) -> None:
    from soundry.engine.analysis import analyze

    path = shared_data / VIBE_ACE
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    source = decode(path)
    analysis = analyze(source)
    b, sim, pos = analysis.boundaries_s, analysis.similarity, analysis.bar_positions
    n = b.size
    # The most alike pairs of beats in the same bar position, as resize would choose.
    scored = []
    for i in range(16, n - 16):
        for j in range(16, n - 16):
            if abs(i - j) >= 8 and pos[i] == pos[j]:
                ctx = (sim[i - 1, j - 1] + sim[i - 2, j - 2] + sim[i, j] + sim[i + 1, j + 1]) / 4
                scored.append((float(ctx), i, j))
    scored.sort(reverse=True)
    chosen: list[tuple[int, int]] = []
    for _, i, j in scored:
        if all(abs(i - k) > 8 for k, _ in chosen):
            chosen.append((i, j))
        if len(chosen) == 6:
            break
    groups = _bar_jumps(b, chosen, source.duration_s)
    assert _assert_inaudible(stitch_groups(source, groups), source, b) == 6
