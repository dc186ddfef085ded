"""The ``soundry`` command line, run as a real subprocess on real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

MEASURE_KEYS = {
    "integrated_lufs",
    "lra_lu",
    "true_peak_dbtp",
    "sample_peak_dbfs",
    "momentary_max_lufs",
    "short_term_max_lufs",
    "duration_s",
    "sample_rate",
    "channels",
}


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "soundry", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.fixture
def sine_wav(tmp_path: Path) -> Path:
    """10 s stereo 1 kHz sine peaking at -23 dBFS at 48 kHz: -23.0 LUFS by EBU Tech 3341."""
    rate = 48_000
    t = np.arange(10 * rate) / rate
    tone = 10 ** (-23 / 20) * np.sin(2 * np.pi * 1000 * t)
    path = tmp_path / "sine.wav"
    sf.write(path, np.stack([tone, tone], axis=1), rate, subtype="PCM_24")
    return path


def test_measure_json_has_exactly_the_keys_and_right_values(sine_wav: Path) -> None:
    result = run_cli("measure", sine_wav, "--json")
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert set(facts) == MEASURE_KEYS
    assert facts["integrated_lufs"] == pytest.approx(-23.0, abs=0.1)
    assert facts["sample_peak_dbfs"] == pytest.approx(-23.0, abs=0.05)
    assert facts["true_peak_dbtp"] == pytest.approx(-23.0, abs=0.2)
    assert facts["lra_lu"] == pytest.approx(0.0, abs=0.5)
    assert facts["sample_rate"] == 48_000
    assert facts["channels"] == 2
    assert facts["duration_s"] == pytest.approx(10.0)


def test_measure_table_names_every_measure(sine_wav: Path) -> None:
    result = run_cli("measure", sine_wav)
    assert result.returncode == 0, result.stderr
    for key in MEASURE_KEYS:
        assert key in result.stdout


def test_info_reports_the_format(tmp_path: Path) -> None:
    path = tmp_path / "tone.flac"
    sf.write(path, np.zeros((44_100, 1)) + 0.1, 44_100, subtype="PCM_24")
    result = run_cli("info", path, "--json")
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["codec"] == "flac"
    assert facts["bit_depth"] == 24
    assert facts["sample_rate"] == 44_100
    assert facts["channels"] == 1
    assert facts["duration_s"] == pytest.approx(1.0)


@pytest.mark.parametrize("command", ["measure", "info"])
def test_bad_file_is_one_line_and_nonzero(tmp_path: Path, command: str) -> None:
    fake = tmp_path / "notes.wav"
    fake.write_text("these are my lyrics, not audio\n")
    result = run_cli(command, fake)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    assert "notes.wav" in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_file_is_one_line_and_nonzero(tmp_path: Path) -> None:
    result = run_cli("measure", tmp_path / "nowhere.flac")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "nowhere.flac" in result.stderr


def test_unknown_option_is_a_usage_error(sine_wav: Path) -> None:
    result = run_cli("measure", sine_wav, "--loud")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_demo_masters_to_target_under_ceiling(tmp_path: Path) -> None:
    result = run_cli("demo", "--out", tmp_path, "--duration-s", "8", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["target"]["reached"] is True
    assert report["after"]["loudness"]["integrated_lufs"] == pytest.approx(-14.0, abs=0.1)
    assert report["after"]["loudness"]["true_peak_dbtp"] <= -1.0
    assert report["before"]["loudness"]["integrated_lufs"] < -16.0
    master = Path(report["files"]["master"])
    data, rate = sf.read(master, dtype="float32", always_2d=True)
    assert rate == 44_100
    assert data.shape == (8 * 44_100, 2)
    assert sf.info(master).subtype == "PCM_24"
