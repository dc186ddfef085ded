"""``soundry export`` in-process (the lead registers the command in app.py at integration)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf

import soundry.cli.export  # noqa: F401  (registers the command)
from soundry.audio import decode
from soundry.cli.app import main
from soundry.engine.export import stitch_groups

from ..engine.export.signals import RATE, click_track


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    audio, _ = click_track(beats=40)
    path = tmp_path_factory.mktemp("cli-export") / "song.wav"
    sf.write(path, audio.samples.T, RATE, subtype="PCM_16")
    return path


def _error(capsys: pytest.CaptureFixture[str], code: int) -> str:
    assert code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ")
    return lines[0]


def test_one_group_to_mp3(song: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "short.mp3"
    code = main(["export", str(song), "--segments", "[[0,4.0],[10.0,14.0]]", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    back = decode(out)
    assert back.source is not None and back.source.codec == "mp3"
    assert back.source.bitrate_bps == pytest.approx(320_000, rel=0.05)
    expected = stitch_groups(decode(song), [[[0, 4.0], [10.0, 14.0]]])[0].duration_s
    assert back.duration_s == pytest.approx(expected, abs=0.06)
    assert str(out) in capsys.readouterr().out.replace("\n", "")


def test_several_groups_with_a_pattern_and_into_a_folder(
    song: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    groups = json.dumps([[[0, 4.0], [10.0, 14.0]], [[2.0, 6.0]]])
    code = main(["export", str(song), "-s", groups, "-o", str(tmp_path / "v{n}.flac")])
    assert code == 0, capsys.readouterr().err
    assert decode(tmp_path / "v1.flac").duration_s == pytest.approx(8.0, abs=0.1)
    assert decode(tmp_path / "v2.flac").duration_s == pytest.approx(4.0, abs=0.02)
    folder = tmp_path / "out"
    folder.mkdir()
    code = main(["export", str(song), "-s", groups, "-o", str(folder), "--format", "wav"])
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == ["song-1.wav", "song-2.wav"]


def test_segments_from_a_json_file(song: Path, tmp_path: Path) -> None:
    spec = tmp_path / "cut.json"
    spec.write_text(json.dumps({"segments": [[0, 4.0], [10.0, 14.0]]}))
    assert main(["export", str(song), "-s", f"@{spec}", "-o", str(tmp_path / "x.wav")]) == 0
    assert (tmp_path / "x.wav").is_file()


@pytest.mark.parametrize(
    ("segments", "output", "fragment"),
    [
        ("[[0,4.0],[10.0", "bad.mp3", "not valid JSON"),
        ("[[0,4.0],[3.95,8.0]]", "bad.mp3", "group 0, segment 1 [3.95, 8]"),
        ("[[0,4.0],[15.0,99.0]]", "bad.mp3", "out of range"),
        ("[[4.0,2.0]]", "bad.mp3", "reversed"),
        ("[[[0,4.0]],[[5.0,6.0]]]", "bad.mp3", "need 2 files"),
        ("[[0,4.0]]", "bad.ogg", "cannot tell the export format"),
        ("[[0,4.0]]", "missing/bad.mp3", "does not exist"),
    ],
)
def test_errors_are_one_line_and_nothing_is_written(
    song: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    segments: str,
    output: str,
    fragment: str,
) -> None:
    line = _error(capsys, main(["export", str(song), "-s", segments, "-o", str(tmp_path / output)]))
    assert fragment in line
    assert list(tmp_path.iterdir()) == []


def test_format_flag_checked(
    song: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["export", str(song), "-s", "[[0,4]]", "-o", str(tmp_path / "a"), "-f", "mp4"])
    assert "unknown export format" in _error(capsys, code)
    code = main(["export", str(song), "-s", "[[0,4]]", "-o", str(tmp_path / "a"), "-f", "aac"])
    assert code == 0
    assert decode(tmp_path / "a.m4a").source.codec == "aac"  # type: ignore[union-attr]


def test_unreadable_segments_file_and_unusable_output_name(
    song: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "cut.json"
    spec.write_bytes(b"\xff\xfe[[0, 4.0]]")
    code = main(["export", str(song), "-s", f"@{spec}", "-o", str(tmp_path / "a.mp3")])
    assert "not UTF-8" in _error(capsys, code)
    long_name = tmp_path / ("a" * 300 + ".mp3")
    code = main(["export", str(song), "-s", "[[0,4.0]]", "-o", str(long_name)])
    assert "not a usable output name" in _error(capsys, code)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.json"]
