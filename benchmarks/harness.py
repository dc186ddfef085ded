"""The benchmark harness: workloads, the shared 3-minute track, timing and the report.

A benchmark module ``benchmarks/bench_<topic>.py`` defines ``workloads(ctx: Context) ->
list[Workload]``. Each workload times our implementation against a peer run in the same
process on the same input, and against the physical floor (decoding the same file).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import soundfile as sf

__all__ = ["Context", "Measurement", "Workload", "median_time_s"]

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_MUSIC = REPO_ROOT.parent / "shared" / "data" / "music" / "librosa-data"
TRACK_PARTS = ("Karissa_Hobbs_-_Lets_Go_Fishin.hq.ogg", "Kevin_MacLeod_-_Vibe_Ace.hq.ogg")
REFERENCE_PARTS = (
    "Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra).hq.ogg",
    "Kevin_MacLeod_-_P_I_Tchaikovsky_Dance_of_the_Sugar_Plum_Fairy.hq.ogg",
)
TRACK_SECONDS = 180.0
SAMPLE_RATE = 44_100


@dataclass
class Workload:
    """One row of the report.

    ``ours`` and ``peer`` are zero-argument callables doing the same work; ``check``, when
    given, receives both results and returns a short note on whether they agree.
    """

    name: str
    ours: Callable[[], object]
    peer: Callable[[], object] | None = None
    peer_name: str = ""
    check: Callable[[object, object], str] | None = None
    limit_s: float | None = None  # our median must stay under this (an issue's target)
    min_speedup: float | None = None  # peer / ours must reach this (an issue's target)


@dataclass
class Measurement:
    """Timings of one workload, in seconds (medians)."""

    name: str
    ours_s: float
    peer_s: float | None
    peer_name: str
    floor_s: float
    agreement: str = ""
    verdicts: list[str] = field(default_factory=list)

    @property
    def speedup(self) -> float | None:
        """Peer time over ours: above 1 means we are faster."""
        return None if self.peer_s is None else self.peer_s / self.ours_s


def median_time_s(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Median wall time of ``repeats`` calls after one warm-up call, and the last result."""
    result = fn()  # warm-up: JIT compilation, caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


class Context:
    """What benchmarks share: the 3-minute test track as a file and as float32 samples."""

    def __init__(self, repeats: int = 5) -> None:
        self.repeats = repeats
        self._tmp = tempfile.TemporaryDirectory(prefix="soundry-bench-")
        self.tmp_dir = Path(self._tmp.name)
        self.notes: list[str] = []  # lines printed under the table (e.g. memory figures)

    @cached_property
    def track_source(self) -> str:
        """Where the 3-minute track came from."""
        self.track_path  # noqa: B018  (builds it)
        return self._source

    @cached_property
    def track_path(self) -> Path:
        """A 180 s, 44.1 kHz, 16-bit stereo WAV of real music when ../shared is there."""
        if all((SHARED_MUSIC / part).is_file() for part in TRACK_PARTS):
            parts = [
                sf.read(SHARED_MUSIC / part, dtype="float32", always_2d=True)[0]
                for part in TRACK_PARTS
            ]
            audio = np.concatenate(parts)[: int(TRACK_SECONDS * SAMPLE_RATE)]
            self._source = "Lets Go Fishin + Vibe Ace (../shared/data/music)"
        else:
            audio = _generated_music(TRACK_SECONDS, SAMPLE_RATE)
            self._source = "generated (../shared/data absent)"
        path = self.tmp_dir / "track180.wav"
        sf.write(path, audio, SAMPLE_RATE, subtype="PCM_16")
        return path

    @cached_property
    def reference_path(self) -> Path:
        """A 16-bit WAV of orchestral music (another mastering reference) when ../shared is
        there, else a minute of a swelling tone."""
        path = self.tmp_dir / "reference.wav"
        if all((SHARED_MUSIC / part).is_file() for part in REFERENCE_PARTS):
            audio = np.concatenate(
                [
                    sf.read(SHARED_MUSIC / p, dtype="float32", always_2d=True)[0]
                    for p in REFERENCE_PARTS
                ]
            )
        else:
            t = np.arange(60 * SAMPLE_RATE) / SAMPLE_RATE
            tone = 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.2 * t))
            audio = np.stack([tone, tone], axis=1).astype(np.float32)
        sf.write(path, audio, SAMPLE_RATE, subtype="PCM_16")
        return path

    @cached_property
    def track(self) -> np.ndarray:
        """The track as float32, shape (channels, frames)."""
        data, _ = sf.read(self.track_path, dtype="float32", always_2d=True)
        return np.ascontiguousarray(data.T)

    @cached_property
    def floor_s(self) -> float:
        """Median time to decode the track file: no workload on it can be faster."""
        seconds, _ = median_time_s(lambda: sf.read(self.track_path, dtype="float32"), self.repeats)
        return seconds

    def close(self) -> None:
        self._tmp.cleanup()


def _generated_music(duration_s: float, sample_rate: int) -> np.ndarray:
    """Chords, a bass line and noise hits at 120 bpm: enough structure for every workload."""
    rng = np.random.default_rng(7)
    t = np.arange(int(duration_s * sample_rate)) / sample_rate
    beat = (t * 2.0) % 1.0
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) * 0.08
    bass = np.sin(2 * np.pi * 55.0 * t) * 0.25 * np.exp(-beat * 4)
    hits = rng.standard_normal(t.size) * 0.2 * np.exp(-beat * 30)
    left = chord + bass + hits
    right = chord * 0.8 + bass + np.roll(hits, 200)
    return np.stack([left, right], axis=1).astype(np.float32)
