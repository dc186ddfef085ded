"""Mastering against Matchering 2.0.6 (GPL, a peer only) on the 3-minute track.

Matchering needs a reference track; both runs get the same one, and ours is asked to match
it too (reference mastering), so the work is alike. Also measured: loudness accuracy at
-16/-14/-10 LUFS, five 30 s previews, and peak memory of one full master in a fresh process.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import soundfile as sf

from benchmarks.harness import Context, Workload
from benchmarks.memprobe import peak_rss_mb
from soundry.audio import AudioBuffer, decode
from soundry.dsp.loudness import integrated_loudness, true_peak_dbtp
from soundry.engine.mastering import MasterSettings, master, master_previews


def _reference_path(ctx: Context) -> Path:
    return ctx.reference_path


def ours_reference_master(ctx: Context) -> AudioBuffer:
    """Read, master toward the reference, write 24-bit WAV: what Matchering's run does.

    The file-to-file path of ``soundry master``: both tracks are read a chunk at a time and
    the master is written as it is made.
    """
    from soundry.audio.stream import SoundFileSource
    from soundry.engine.mastering.files import master_file
    from soundry.engine.mastering.output import OutputFormat

    out = ctx.tmp_dir / "ours.wav"
    reference = SoundFileSource(_reference_path(ctx))
    try:
        master_file(
            ctx.track_path,
            out,
            MasterSettings(),
            OutputFormat("wav", None, 24),
            reference=reference,
        )
    finally:
        reference.close()
    return decode(out)


LONG_MINUTES = 60


def long_master(ctx: Context) -> None:
    """A 60-minute stereo file (the 3-minute track looped, written a block at a time),
    mastered file to file to 24-bit WAV: what memory a long master needs."""
    from soundry.audio.stream import SoundFileSource
    from soundry.engine.mastering.files import master_file
    from soundry.engine.mastering.output import OutputFormat

    long_path = ctx.tmp_dir / "long.wav"
    loop = SoundFileSource(ctx.track_path)
    total = LONG_MINUTES * 60 * loop.sample_rate
    try:
        with sf.SoundFile(
            str(long_path), "w", loop.sample_rate, loop.channels, "PCM_24", format="RF64"
        ) as out:
            written = 0
            while written < total:
                count = min(loop.frames, total - written)
                for start in range(0, count, 1 << 20):
                    stop = min(count, start + (1 << 20))
                    out.write(loop.read(start, stop).T)
                written += count
    finally:
        loop.close()
    master_file(
        long_path, ctx.tmp_dir / "long-master.wav", MasterSettings(), OutputFormat("wav", None, 24)
    )


def matchering_master(ctx: Context) -> Path:
    """Matchering's whole run: load both files, process, write 24-bit WAV."""
    import matchering as mg

    mg.log(lambda *_: None)
    out = ctx.tmp_dir / "matchering.wav"
    mg.process(
        target=str(ctx.track_path),
        reference=str(_reference_path(ctx)),
        results=[mg.pcm24(str(out))],
    )
    return out


def _compare(ours: object, peer: object) -> str:
    assert isinstance(ours, AudioBuffer) and isinstance(peer, Path)
    theirs, rate = sf.read(peer, dtype="float32", always_2d=True)
    return (
        f"I {integrated_loudness(ours.samples, ours.sample_rate):.2f} / "
        f"{integrated_loudness(theirs.T, rate):.2f} LUFS, TP "
        f"{true_peak_dbtp(ours.samples, ours.sample_rate):.2f} / "
        f"{true_peak_dbtp(theirs.T, rate):.2f} dBTP (ours / Matchering)"
    )


def _accuracy(target_lufs: float) -> tuple[str, Callable[[object, object], str]]:
    def check(result: object, _: object) -> str:
        assert isinstance(result, AudioBuffer)
        measured = integrated_loudness(result.samples, result.sample_rate)
        peak = true_peak_dbtp(result.samples, result.sample_rate)
        return f"error {measured - target_lufs:+.3f} LU, TP {peak:.2f} dBTP (ceiling -1)"

    return f"master to {target_lufs:g} LUFS (3 min, profile i)", check


def workloads(ctx: Context) -> list[Workload]:
    track = AudioBuffer(ctx.track, 44_100)
    rows = [
        Workload(
            "master with reference, file to file (3 min)",
            lambda: ours_reference_master(ctx),
            lambda: matchering_master(ctx),
            "Matchering 2.0.6",
            check=_compare,
            min_speedup=4.0,
        )
    ]
    for target in (-16.0, -14.0, -10.0):
        name, check = _accuracy(target)
        rows.append(
            Workload(
                name,
                lambda t=target: master(track, target_lufs=t, profile="i")[0],
                check=check,
            )
        )
    variants = [MasterSettings(profile=p) for p in "abcij"]
    rows.append(
        Workload(
            "five 30 s previews (a, b, c, i, j)",
            lambda: master_previews(track, variants),
            limit_s=1.5,
        )
    )
    ours_mb = peak_rss_mb("benchmarks.bench_master", "ours_reference_master")
    peer_mb = peak_rss_mb("benchmarks.bench_master", "matchering_master")
    ctx.notes.append(
        f"peak memory of one file-to-file master in a fresh process: ours {ours_mb:.0f} MB,"
        f" Matchering {peer_mb:.0f} MB ({peer_mb / ours_mb:.1f}x; target: at most a quarter"
        f" of Matchering's) {'met' if ours_mb * 4 <= peer_mb else 'NOT met'}"
    )
    long_mb = peak_rss_mb("benchmarks.bench_master", "long_master")
    ctx.notes.append(
        f"peak memory of a {LONG_MINUTES}-minute file-to-file master in a fresh process:"
        f" {long_mb:.0f} MB (its samples alone would be"
        f" {LONG_MINUTES * 60 * 44_100 * 2 * 4 / 1e6:.0f} MB as float32)"
    )
    assert math.isfinite(ours_mb) and math.isfinite(long_mb)
    return rows
