"""``soundry master`` / ``master-preview`` as a user runs them, on real files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from soundry.audio import encode
from soundry.audio.synth import demo_song
from soundry.dsp.loudness import integrated_loudness, true_peak_dbtp

from .test_cli import run_cli


@pytest.fixture(scope="module")
def mix_flac(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mix") / "mix.flac"
    encode(demo_song(duration_s=20.0, sample_rate=48_000, seed=2), path, bit_depth=16)
    return path


def test_master_keeps_the_source_format_and_writes_the_report(
    mix_flac: Path, tmp_path: Path
) -> None:
    out = tmp_path / "master.flac"
    report_path = tmp_path / "report.json"
    result = run_cli(
        "master",
        mix_flac,
        "-o",
        out,
        "--loudness",
        "HIGH",
        "--profile",
        "b",
        "--report",
        report_path,
    )
    assert result.returncode == 0, result.stderr
    info = sf.info(out)
    assert (info.samplerate, info.subtype, info.channels) == (48_000, "PCM_16", 2)
    data, rate = sf.read(out, dtype="float32", always_2d=True)
    assert integrated_loudness(data.T, rate) == pytest.approx(-10.0, abs=0.3)
    # 16-bit rounding and dither may add a hair over the ceiling; the float master holds it.
    assert true_peak_dbtp(data.T, rate) <= -1.0 + 0.01
    report = json.loads(report_path.read_text())
    assert report["media_info"]["codec"] == "flac"
    assert report["settings"]["settings"]["profile"] == "b"
    assert report["target"]["reached"] is True


def test_master_to_another_format_and_rate(mix_flac: Path, tmp_path: Path) -> None:
    out = tmp_path / "master.wav"
    result = run_cli("master", mix_flac, "-o", out, "--sample-rate", "44100", "--bit-depth", "24")
    assert result.returncode == 0, result.stderr
    info = sf.info(out)
    assert (info.samplerate, info.subtype) == (44_100, "PCM_24")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--profile", "z"], "profile"),
        (["--loudness", "LOUDEST"], "loudness"),
        (["--intensity", "150"], "intensity"),
        (["--format", "wma"], "format"),
    ],
)
def test_bad_arguments_are_one_line_and_write_nothing(
    mix_flac: Path, tmp_path: Path, args: list[str], needle: str
) -> None:
    out = tmp_path / "master.flac"
    result = run_cli("master", mix_flac, "-o", out, *args)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("samples", "needle"),
    [
        (np.zeros((1000, 2), np.float32) + 0.1, "at least 1 s"),
        (np.full((44_100 * 2, 2), np.nan, np.float32), "NaN"),
    ],
)
def test_bad_pcm_files_are_one_line_and_write_nothing(
    tmp_path: Path, samples: np.ndarray, needle: str
) -> None:
    """The streamed PCM-to-PCM path checks what the in-memory one does."""
    source = tmp_path / "mix.wav"
    sf.write(source, samples, 44_100, subtype="FLOAT")
    out = tmp_path / "master.wav"
    result = run_cli("master", source, "-o", out)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mix.wav"]


def test_master_preview_writes_variants(mix_flac: Path, tmp_path: Path) -> None:
    result = run_cli(
        "master-preview",
        mix_flac,
        "--out-dir",
        tmp_path,
        "--variant",
        "profile=a,intensity=80",
        "--variant",
        "profile=n,loudness=LOW",
        "--start",
        "5",
    )
    assert result.returncode == 0, result.stderr
    for index in (1, 2):
        clip = tmp_path / f"preview-{index}.m4a"
        assert clip.stat().st_size > 10_000
        report = json.loads(clip.with_suffix(".json").read_text())
        # A 20 s mix is shorter than a preview: the preview is the whole mix, from 0 s.
        assert report["excerpt"]["start_s"] == pytest.approx(0.0)
        assert report["excerpt"]["duration_s"] == pytest.approx(20.0)
        assert report["settings"]["settings"]["profile"] == ("a", "n")[index - 1]


def test_master_preview_rejects_a_bad_variant(mix_flac: Path, tmp_path: Path) -> None:
    result = run_cli("master-preview", mix_flac, "--out-dir", tmp_path, "--variant", "colour=red")
    assert result.returncode == 1
    assert "variant" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_missing_output_folder_fails_before_any_work(mix_flac: Path, tmp_path: Path) -> None:
    out = tmp_path / "master.flac"
    result = run_cli("master", mix_flac, "-o", out, "--report", tmp_path / "no" / "r.json")
    assert result.returncode == 1
    assert "does not exist" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("suffix", [".mp3", ".m4a"])
def test_lossy_master_holds_the_ceiling_in_the_decoded_file(
    mix_flac: Path, tmp_path: Path, suffix: str
) -> None:
    from soundry.audio import decode

    out = tmp_path / f"master{suffix}"
    report_path = tmp_path / "report.json"
    result = run_cli("master", mix_flac, "-o", out, "--loudness", "HIGH", "--report", report_path)
    assert result.returncode == 0, result.stderr
    delivered = decode(out)
    peak = true_peak_dbtp(delivered.samples, delivered.sample_rate)
    assert peak <= -1.0
    assert integrated_loudness(delivered.samples, delivered.sample_rate) == pytest.approx(
        -10.0, abs=0.3
    )
    target = json.loads(report_path.read_text())["target"]
    assert target["ceiling_dbtp"] == -1.0
    assert target["delivered_true_peak_dbtp"] == pytest.approx(peak, abs=0.01)
    assert target["limiter_ceiling_dbtp"] < -1.0


def test_a_lossy_source_is_decoded_and_mastered(mix_flac: Path, tmp_path: Path) -> None:
    from soundry.audio import decode, encode

    source = tmp_path / "mix.mp3"
    encode(decode(mix_flac), source, bitrate_kbps=320)
    out = tmp_path / "master.wav"
    result = run_cli("master", source, "-o", out, "--report", tmp_path / "r.json")
    assert result.returncode == 0, result.stderr
    master = decode(out)
    assert integrated_loudness(master.samples, master.sample_rate) == pytest.approx(-14.0, abs=0.3)
    assert true_peak_dbtp(master.samples, master.sample_rate) <= -1.0 + 0.05
    media = json.loads((tmp_path / "r.json").read_text())["media_info"]
    assert media["codec"] == "mp3"
