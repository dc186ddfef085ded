"""Resize: 20 candidates for a 5-minute, ~600-beat song, and the quality of what they cut.

The song is real music from ../shared/data/music played back to back (Lets Go Fishin,
Vibe Ace, the pistachio ragtime, Vibe Ace again: 305 s, about 600 beats); without the
shared data, 300 s of the generated demo song at 120 bpm. It is analysed once, outside
the timing, and its loudness around every beat measured once
(:func:`soundry.engine.resize.seam_levels`, also outside: a caller resizing one song for
several targets measures it once); each row times :func:`soundry.resize` with those
levels for one target, shortening and lengthening. There is no open-source peer that
resizes music, so no peer column.

The agreement column carries the C.4 metrics of the mixing-and-resize notes over the
candidates returned:

* length error in beats (largest and mean |duration - target| over the median beat), and
  the share of candidates within one beat;
* cut similarity (``1 -`` cut cost, the diagonal-filtered similarity of the two sides of
  each seam): the mean over all cuts and the worst cut, against the song's median over
  all bar-aligned beat pairs (what a random bar-aligned cut would score);
* cuts per candidate and the shortest segment in beats;
* seams whose predicted loudness excess (the jump beyond the song's own at the source
  points, issue 4's third seam check) is at most 1.5 LU, and the largest.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import soundfile as sf

from benchmarks.harness import REPO_ROOT, Context, Workload
from soundry.audio.buffer import AudioBuffer
from soundry.engine.analysis import Analysis, analyze
from soundry.engine.resize import Candidate, resize, seam_levels
from soundry.engine.resize.cuts import alike_threshold
from soundry.engine.resize.grid import build_grid

MUSIC = REPO_ROOT.parent / "shared" / "data" / "music" / "librosa-data"
PARTS = (
    ("Karissa_Hobbs_-_Lets_Go_Fishin.hq.ogg", None),
    ("Kevin_MacLeod_-_Vibe_Ace.hq.ogg", None),
    ("442789__lena-orsa__happy-music-pistachio-ice-cream-ragtime.hq.ogg", None),
    ("Kevin_MacLeod_-_Vibe_Ace.hq.ogg", 40.0),
)
LIMIT_S = 0.1  # issue 4: 20 candidates for a 5-minute song (~600 beats) in under 100 ms
TARGETS_S = (30.0, 60.0, 180.0, 240.0, 420.0, 900.0)


def _song() -> tuple[AudioBuffer, str]:
    if all((MUSIC / name).is_file() for name, _ in PARTS):
        rate = 44_100
        pieces = []
        for name, seconds in PARTS:
            data, sr = sf.read(MUSIC / name, dtype="float32", always_2d=True)
            assert sr == rate, f"{name} is at {sr} Hz"
            pieces.append(data if seconds is None else data[: int(seconds * rate)])
        samples = np.ascontiguousarray(np.concatenate(pieces).T)
        return AudioBuffer(samples, rate), "4 real recordings back to back (../shared/data)"
    from soundry.audio.synth import demo_song

    return demo_song(duration_s=300.0, tempo_bpm=120.0, seed=5), "generated demo song"


def _metrics(analysis: Analysis, median_aligned: float) -> Callable[[object, object], str]:
    beat_s = float(np.median(np.diff(analysis.boundaries_s)))

    def check(ours: object, _peer: object) -> str:
        assert isinstance(ours, list)
        found: list[Candidate] = ours
        errors = np.array([abs(c.duration_error_s) for c in found]) / beat_s
        cuts = np.array([s for c in found for s in c.cut_similarities])
        shortest = min(e - s for c in found for s, e in c.segments_beats)
        counts = [c.cut_count for c in found]
        excess = np.array([x for c in found for x in c.seam_loudness_lu])
        loud = (
            f"; loudness <= 1.5 LU {int((excess <= 1.5).sum())}/{excess.size} "
            f"(max {excess.max():.2f})"
            if excess.size
            else ""
        )
        mean_cut = f"{cuts.mean():.3f}" if cuts.size else "-"
        worst_cut = f"{cuts.min():.3f}" if cuts.size else "-"
        return (
            f"{len(found)} cands; |err| max {errors.max():.2f} mean {errors.mean():.2f} beats, "
            f"{np.mean(errors <= 1.0):.0%} within 1; cut sim mean {mean_cut} min {worst_cut} "
            f"(song median {median_aligned:.3f}); cuts {min(counts)}-{max(counts)}; "
            f"shortest seg {shortest} beats{loud}"
        )

    return check


def workloads(ctx: Context) -> list[Workload]:
    audio, source = _song()
    analysis = analyze(audio)
    grid = build_grid(
        analysis.boundaries_s,
        analysis.similarity,
        analysis.duration_s,
        beats_per_bar=analysis.beats_per_bar,
        downbeat_index=0,
    )
    # The cost a random bar-aligned cut has, as a similarity: the 50th percentile.
    median_aligned = 1.0 - alike_threshold(grid, 2 * grid.beats_per_bar, 0.5)
    ctx.notes.append(
        f"resize song: {source}, {analysis.duration_s:.1f} s, {analysis.n_beats} beats, "
        f"{analysis.tempo_bpm:.1f} bpm, {analysis.beats_per_bar} beats per bar"
    )
    start = time.perf_counter()
    levels = seam_levels(audio, analysis.boundaries_s)
    ctx.notes.append(
        f"resize levels: seam_levels measured in {time.perf_counter() - start:.2f} s "
        "(once per song, outside the rows)"
    )
    check = _metrics(analysis, median_aligned)
    out = []
    for target in TARGETS_S:
        if target > 4.0 * analysis.duration_s:
            continue
        out.append(
            Workload(
                f"resize: {analysis.n_beats} beats ({analysis.duration_s:.0f} s) -> {target:g} s",
                ours=lambda target=target: resize(analysis, target, count=20, levels=levels),
                check=check,
                limit_s=LIMIT_S,
            )
        )
    return out
