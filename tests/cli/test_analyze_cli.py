"""``soundry analyze`` as a user runs it: a real subprocess on real files."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import mir_eval
import numpy as np
import pytest
import soundfile as sf

from soundry.audio.synth import demo_song
from soundry.engine.analysis import decode_similarity

from .test_cli import run_cli

TEMPO_BPM = 110.0


@pytest.fixture(scope="module")
def song_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 s of the generated demo song at 110 bpm in 4/4, 16-bit stereo WAV."""
    audio = demo_song(duration_s=20.0, tempo_bpm=TEMPO_BPM, seed=2)
    path = tmp_path_factory.mktemp("analyze") / "song.wav"
    sf.write(path, audio.samples.T, audio.sample_rate, subtype="PCM_16")
    return path


def test_json_has_the_audjust_keys_and_the_right_beats(song_wav: Path, tmp_path: Path) -> None:
    out = tmp_path / "analysis.json"
    result = run_cli("analyze", song_wav, "--json", out)
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert {"duration", "tempo", "boundaries", "downbeats", "similarity"} <= set(data)
    assert "features" not in data
    assert data["duration"] == pytest.approx(20.0, abs=1e-3)
    assert data["tempo"] == pytest.approx(TEMPO_BPM, rel=0.02)
    truth = np.arange(0.0, 20.0, 60.0 / TEMPO_BPM)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert mir_eval.beat.f_measure(truth, np.array(data["boundaries"])) >= 0.95
    assert set(data["downbeats"]) <= set(data["boundaries"])
    similarity = data["similarity"]
    assert (similarity["min"], similarity["max"]) == (32, 126)
    n = len(data["boundaries"])
    assert len(similarity["data"]) == n * (n + 1) // 2
    matrix = decode_similarity(similarity["data"], n, similarity["min"], similarity["max"])
    assert np.allclose(np.diag(matrix), 1.0)
    # The summary names the tempo and where the JSON went.
    assert f"{data['tempo']:.1f} bpm" in result.stdout
    assert str(out) in result.stdout.replace("\n", "")


def test_features_flag_adds_13_values_per_beat(song_wav: Path, tmp_path: Path) -> None:
    out = tmp_path / "analysis.json"
    result = run_cli("analyze", song_wav, "--features", "--json", out)
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    features = np.array(data["features"])
    assert features.shape == (len(data["boundaries"]), 13)
    assert features.min() >= 0.0 and features.max() <= 1.0


def test_summary_without_json(song_wav: Path) -> None:
    result = run_cli("analyze", song_wav)
    assert result.returncode == 0, result.stderr
    assert "bpm" in result.stdout and "beats per bar" in result.stdout
    assert "LUFS" in result.stdout


def _one_error_line(result) -> str:
    assert result.returncode == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_text_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.wav"
    bogus.write_text("these are not samples\n")
    line = _one_error_line(run_cli("analyze", bogus, "--json", tmp_path / "out.json"))
    assert "notes.wav" in line
    assert not (tmp_path / "out.json").exists()


def test_missing_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    line = _one_error_line(run_cli("analyze", tmp_path / "nowhere.flac"))
    assert "nowhere.flac" in line


def test_silent_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros((5 * 44_100, 2)), 44_100, subtype="PCM_16")
    assert "silent" in _one_error_line(run_cli("analyze", silent))


def test_too_short_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    short = tmp_path / "short.wav"
    sf.write(short, np.full(4410, 0.1), 44_100, subtype="PCM_16")
    assert "too short" in _one_error_line(run_cli("analyze", short))


def test_json_into_a_missing_folder_fails_before_any_work(song_wav: Path, tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "folder" / "out.json"
    assert "does not exist" in _one_error_line(run_cli("analyze", song_wav, "--json", target))
