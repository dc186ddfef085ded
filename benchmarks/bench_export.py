"""Export: stitching speed on the 3-minute track, and seam quality on resize results.

Speed rows time :func:`soundry.engine.export.export` from the file (decode, stitch, encode)
and the stitch alone, against a naive splice (the same segments joined with a fixed 10 ms
linear crossfade at the asked times: no attack search, no alignment) as the peer.

Quality rows resize every real recording in ../shared/data/music (a shorter and a longer
target, the best candidates of each, the song's levels given so that cuts keep the
loudness steady), stitch them, and measure every seam as issue 4
asks (:func:`soundry.engine.export.measure_seams`): the spectral-flux jump as a robust
z-score among the song's own beats (pass: z <= 2, or no higher than the incoming beat's own
z in the source), the largest sample step against the source's 99.99th percentile (pass:
<= 1), and the loudness jump beyond the song's own at the source points (pass: <= 1.5 LU).
The naive splice of the same candidates is measured alongside.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from benchmarks.harness import REPO_ROOT, Context, Workload
from soundry.audio import AudioBuffer, decode
from soundry.engine.analysis import Analysis, analyze
from soundry.engine.export import (
    SeamQuality,
    Stitched,
    export,
    measure_seams,
    stitch_groups,
)
from soundry.engine.export.seams import Seam
from soundry.engine.resize import SeamLevels, resize, seam_levels

MUSIC = REPO_ROOT.parent / "shared" / "data" / "music" / "librosa-data"
NAIVE_FADE_S = 0.010
TARGETS = (0.7, 1.3)  # shorter and longer, relative to the song
PER_TARGET = 4


def _candidates(
    analysis: Analysis, count: int = PER_TARGET, levels: SeamLevels | None = None
) -> list[tuple[tuple[float, float], ...]]:
    out: list[tuple[tuple[float, float], ...]] = []
    for factor in TARGETS:
        try:
            found = resize(analysis, analysis.duration_s * factor, count=count, levels=levels)
        except Exception:  # a song too short for this target: the other one still counts
            continue
        out.extend(c.segments_s for c in found if len(c.segments_s) > 1)
    return out


def _naive(audio: AudioBuffer, groups: Sequence[Sequence[tuple[float, float]]]) -> list[Stitched]:
    """Join at the asked times with a fixed linear crossfade: what a simple editor does."""
    x, rate = audio.samples, audio.sample_rate
    fade = round(NAIVE_FADE_S * rate)
    ramp = ((np.arange(fade) + 0.5) / fade).astype(np.float32)
    out = []
    for group in groups:
        spans = [(round(a * rate), round(b * rate)) for a, b in group]
        pieces: list[np.ndarray] = [x[:, spans[0][0] : spans[0][1] - fade]]
        seams: list[Seam] = []
        length = pieces[0].shape[1]
        for (_, end), (start, stop) in itertools.pairwise(spans):
            lo = max(start - fade, 0)
            mixed = x[:, end - fade : end] * ramp[::-1]
            mixed[:, fade - (start - lo) :] += x[:, lo:start] * ramp[fade - (start - lo) :]
            pieces += [mixed, x[:, start : stop - fade]]
            seams.append(
                Seam(
                    position_s=(length + fade) / rate,
                    out_s=end / rate,
                    in_s=start / rate,
                    out_nominal_s=end / rate,
                    in_nominal_s=start / rate,
                    lag_ms=0.0,
                    correlation=0.0,
                    crossfade_ms=NAIVE_FADE_S * 1000,
                    tail_ms=0.0,
                    onsets_found=(False, False),
                )
            )
            length += fade + (stop - fade - start)
        out.append(
            Stitched(audio.with_samples(np.concatenate(pieces, axis=1)), tuple(seams), (), ())
        )
    return out


def _summary(qualities: list[SeamQuality]) -> str:
    if not qualities:
        return "no seams"
    z = np.array([q.flux_z for q in qualities])
    own = np.array([q.source_flux_z for q in qualities])
    steps = np.array([q.step_ratio for q in qualities])
    excess = np.array([q.loudness_excess_lu for q in qualities])
    jump = np.array([q.loudness_jump_lu for q in qualities])
    flux_ok = (z <= 2.0) | (z <= own + 0.25)
    ok = flux_ok & (steps <= 1.0) & ~(excess > 1.5)
    return (
        f"{ok.sum()}/{ok.size} pass; flux z max {z.max():.2f} median {np.median(z):.2f} "
        f"(z<=2: {int((z <= 2).sum())}); step/limit max {steps.max():.2f}; "
        f"loudness excess max {np.nanmax(excess):.2f} LU (raw jump max {np.nanmax(jump):.2f})"
    )


def _quality_row(path: Path, notes: list[str]) -> Workload | None:
    source = decode(path)
    try:
        analysis = analyze(source)
    except Exception as exc:
        notes.append(f"export quality: {path.name} skipped ({exc})")
        return None
    groups = _candidates(analysis, levels=seam_levels(source, analysis.boundaries_s))
    if not groups:
        notes.append(f"export quality: {path.name}: resize gave no candidate with a seam")
        return None
    beats = analysis.boundaries_s

    def check(ours: object, peer: object) -> str:
        assert isinstance(ours, list) and isinstance(peer, list)
        mine = [q for item in ours for q in measure_seams(item, source, beats)]
        naive = [q for item in peer for q in measure_seams(item, source, beats)]
        notes.append(f"export seams {path.stem[:40]}: ours {_summary(mine)}")
        notes.append(f"export seams {path.stem[:40]}: naive {_summary(naive)}")
        return f"ours {_summary(mine)}"

    return Workload(
        f"export seams: {path.stem[:28]} ({len(groups)} candidates)",
        ours=lambda: stitch_groups(source, groups),
        peer=lambda: _naive(source, groups),
        peer_name="naive 10 ms splice",
        check=check,
    )


def workloads(ctx: Context) -> list[Workload]:
    path = ctx.track_path
    audio = decode(path)
    analysis = analyze(audio)
    groups = _candidates(analysis, count=1, levels=seam_levels(audio, analysis.boundaries_s))[
        :1
    ] or [
        [(0.0, 60.0), (120.0, audio.duration_s)]  # generated track: two bars-agnostic cuts
    ]
    cand = groups[0]
    ctx.notes.append(f"export speed rows: 3-minute track cut to {cand}")
    out: list[Workload] = [
        Workload(
            "export: stitch one resize candidate (3 min)",
            ours=lambda: stitch_groups(audio, [cand]),
            peer=lambda: _naive(audio, [cand]),
            peer_name="naive 10 ms splice",
        ),
        Workload(
            "export: decode + stitch + mp3_320 (3 min)",
            ours=_export_call(path, cand, "mp3_320"),
        ),
        Workload(
            "export: decode + stitch + wav (3 min)",
            ours=_export_call(path, cand, "wav"),
        ),
    ]
    if MUSIC.is_dir():
        for song in sorted(MUSIC.glob("*.ogg")):
            row = _quality_row(song, ctx.notes)
            if row is not None:
                out.append(row)
    else:
        ctx.notes.append(f"export quality rows skipped: {MUSIC} is absent")
    return out


def _export_call(path: Path, cand: Sequence[tuple[float, float]], fmt: str) -> Callable[[], object]:
    return lambda: export(path, [list(cand)], format=fmt)
