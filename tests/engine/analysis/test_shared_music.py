"""Beat tracking on annotated real and rendered music from ../shared/data.

The multitrack renders (Bach chorales and a Joplin rag through fluidsynth, exact beat
annotations) come with and without drums; the madmom sample is a real recording with
hand-made beat annotations. Every item must reach a beat F-measure of 0.90 (mir_eval,
±70 ms) and a tempo within 4 % of the annotation.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import mir_eval
import numpy as np
import pytest

from soundry.audio import decode
from soundry.engine.analysis import Analysis, analyze

pytestmark = pytest.mark.shared_data

MULTITRACK = [
    ("bwv66", "mix.flac"),
    ("bwv66", "mix_nodrums.flac"),
    ("bwv269", "mix.flac"),
    ("bwv269", "mix_nodrums.flac"),
    ("rag", "mix.flac"),
]


def _f_measure(reference: np.ndarray, estimated: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # beats before 5 s are kept on purpose
        return float(mir_eval.beat.f_measure(reference, estimated))


def _analyse(path: Path) -> Analysis:
    return analyze(decode(path))


@pytest.mark.parametrize(("piece", "mix"), MULTITRACK, ids=[f"{p}/{m}" for p, m in MULTITRACK])
def test_multitrack_beats_and_tempo(shared_data: Path, piece: str, mix: str) -> None:
    folder = shared_data / "multitrack" / piece
    truth = np.loadtxt(folder / "beats.txt", usecols=0, ndmin=1)
    meta = json.loads((folder / "meta.json").read_text())
    result = _analyse(folder / mix)
    assert _f_measure(truth, result.boundaries_s) >= 0.90
    assert result.tempo_bpm == pytest.approx(meta["bpm"], rel=0.04)
    # Triple meter is told from duple (2/4 is reported as bars of 4, see meter.py).
    expected_meter = 3 if meta["beats_per_bar"] == 3 else 4
    assert result.beats_per_bar == expected_meter


def test_madmom_sample_beats_and_tempo(shared_data: Path) -> None:
    folder = shared_data / "annotated" / "madmom"
    truth = np.loadtxt(folder / "annotations" / "sample.beats", usecols=0, comments="#")
    result = _analyse(folder / "audio" / "sample.wav")
    assert _f_measure(truth, result.boundaries_s) >= 0.90
    annotated_bpm = 60.0 / float(np.mean(np.diff(truth)))
    assert result.tempo_bpm == pytest.approx(annotated_bpm, rel=0.04)


def test_real_recording_with_drums_agrees_with_its_known_tempo(shared_data: Path) -> None:
    # "Choice" (drum and bass) is librosa's own example track, widely quoted at 136 bpm.
    audio = decode(
        shared_data / "music" / "librosa-data" / "admiralbob77_-_Choice_-_Drum-bass.hq.ogg"
    )
    result = analyze(audio)
    assert result.tempo_bpm == pytest.approx(136.0, rel=0.02)
    # Beats are evenly spread through the whole track.
    gaps = np.diff(result.boundaries_s)
    assert np.abs(gaps / np.median(gaps) - 1.0).max() < 0.1
    assert result.boundaries_s[-1] > result.duration_s - 1.0
