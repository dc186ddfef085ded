"""Music analysis against librosa on the 3-minute track, and beat accuracy on the shared data.

Ours: decode the file, then :func:`soundry.analyze` (beats, tempo, meter, beat features,
the N x N similarity matrix and the loudness report). The peer does less: librosa's load
(resampled to 22 050 Hz, its default), its default beat tracker and beat-synchronous
chroma. Both start from the same file, so decoding counts for both.

The accuracy rows run both trackers on every annotated item in ../shared/data (the
multitrack renders, with and without drums, and the hand-annotated madmom sample) and
report the beat F-measure (mir_eval, ±70 ms) and the tempo error.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.harness import REPO_ROOT, Context, Workload
from soundry.audio import decode
from soundry.engine.analysis import Analysis, analyze

SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
LIMIT_S = 1.5  # issue 4: a 3-minute track analysed, decode included, in under 1.5 s


def _ours(path: Path) -> Callable[[], Analysis]:
    return lambda: analyze(decode(path))


def _librosa(path: Path) -> Callable[[], object] | None:
    try:
        import librosa
    except ImportError:
        return None

    def run() -> tuple[float, np.ndarray]:
        y, sr = librosa.load(path)
        tempo, frames = librosa.beat.beat_track(y=y, sr=sr)
        chroma = librosa.feature.chroma_stft(y=y, sr=sr)
        librosa.util.sync(chroma, frames)
        return float(np.atleast_1d(tempo)[0]), librosa.frames_to_time(frames, sr=sr)

    return run


def _agreement(ours: object, peer: object) -> str:
    assert isinstance(ours, Analysis) and isinstance(peer, tuple)
    peer_tempo, peer_beats = peer
    return (
        f"tempo {ours.tempo_bpm:.1f} vs {peer_tempo:.1f} bpm, "
        f"{ours.n_beats} vs {len(peer_beats)} beats"
    )


def _items() -> list[tuple[str, Path, np.ndarray, float]]:
    items = []
    for piece in ("bwv66", "bwv269", "rag"):
        folder = SHARED_DATA / "multitrack" / piece
        if not folder.is_dir():
            continue
        beats = np.loadtxt(folder / "beats.txt", usecols=0, ndmin=1)
        bpm = float(json.loads((folder / "meta.json").read_text())["bpm"])
        for mix in ("mix.flac", "mix_nodrums.flac"):
            if (folder / mix).is_file():
                name = piece if mix == "mix.flac" else f"{piece} (no drums)"
                items.append((name, folder / mix, beats, bpm))
    madmom = SHARED_DATA / "annotated" / "madmom"
    if (madmom / "audio" / "sample.wav").is_file():
        beats = np.loadtxt(madmom / "annotations" / "sample.beats", usecols=0, comments="#")
        bpm = 60.0 / float(np.median(np.diff(beats)))
        items.append(("madmom sample", madmom / "audio" / "sample.wav", beats, bpm))
    return items


def _tempo_note(measured: float, truth: float) -> str:
    for factor, label in ((1.0, ""), (2.0, " (double)"), (0.5, " (half)")):
        error = measured / (truth * factor) - 1.0
        if abs(error) <= 0.04:
            return f"{error * 100:+.1f}%{label}"
    return f"{(measured / truth - 1.0) * 100:+.0f}% (wrong)"


def _accuracy_row(name: str, path: Path, beats: np.ndarray, bpm: float) -> Workload:
    import mir_eval

    def score(result: object, tempo: float, tracked: np.ndarray) -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = mir_eval.beat.f_measure(beats, np.asarray(tracked))
        return f"F {f:.3f}, tempo {_tempo_note(tempo, bpm)}"

    def check(ours: object, peer: object) -> str:
        assert isinstance(ours, Analysis)
        text = f"ours {score(ours, ours.tempo_bpm, ours.boundaries_s)}"
        if isinstance(peer, tuple):
            text += f"; librosa {score(peer, peer[0], peer[1])}"
        return text

    peer = _librosa(path)
    return Workload(
        f"beats: {name}",
        ours=_ours(path),
        peer=peer,
        peer_name="librosa beat_track" if peer else "",
        check=check,
    )


def workloads(ctx: Context) -> list[Workload]:
    path = ctx.track_path
    peer = _librosa(path)
    out = [
        Workload(
            "analysis: decode + analyze (3 min)",
            ours=_ours(path),
            peer=peer,
            peer_name="librosa load + beat_track + chroma" if peer else "",
            check=_agreement if peer else None,
            limit_s=LIMIT_S,
            min_speedup=1.0 if peer else None,
        )
    ]
    try:
        import mir_eval  # noqa: F401
    except ImportError:
        ctx.notes.append("mir_eval missing: beat accuracy rows skipped")
        return out
    out.extend(_accuracy_row(*item) for item in _items())
    return out
