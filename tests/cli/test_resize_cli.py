"""``soundry resize`` as a user runs it, on a generated song with a known 4-bar loop.

The demo song repeats the same four bars (16 beats, 8 s at 120 bpm), so dropping one
loop from 30 s gives exactly 22 s with a perfect cut.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import soundry.cli.resize  # noqa: F401  (registers the command)
from soundry.audio import decode
from soundry.audio.synth import demo_song
from soundry.cli.app import main

AUDJUST_KEYS = {
    "dissimilarity",
    "blendedScore",
    "segmentsBeats",
    "segmentsSeconds",
    "durationSeconds",
}
BEAT_S = 0.5


@pytest.fixture(scope="module")
def song_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    audio = demo_song(duration_s=30.0, tempo_bpm=120.0, seed=3)
    path = tmp_path_factory.mktemp("resize") / "song.wav"
    sf.write(path, audio.samples.T, audio.sample_rate, subtype="PCM_16")
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def test_json_is_audjusts_result_and_on_target(
    song_wav: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "resize.json"
    status, stdout, stderr = _run(capsys, "resize", song_wav, "--target", 22, "--json", out)
    assert status == 0, stderr
    data = json.loads(out.read_text())
    assert data["targetLengthSeconds"] == 22.0
    result = data["result"]
    assert 1 <= len(result) <= 20
    for item in result:
        assert set(item) == AUDJUST_KEYS
        assert abs(item["durationSeconds"] - 22.0) <= BEAT_S
        assert item["segmentsBeats"][0][0] == 0
        assert item["segmentsSeconds"][0][0] == 0.0
        assert item["segmentsSeconds"][-1][1] == pytest.approx(30.0, abs=1e-3)
        assert item["blendedScore"] <= 0.0 <= item["dissimilarity"]
    scores = [item["blendedScore"] for item in result]
    assert scores == sorted(scores, reverse=True)
    # A loop is 16 beats: the best cut drops exactly one, and joins identical bars.
    (_, e), (b, _) = result[0]["segmentsBeats"][:2]
    assert b - e == 16 and result[0]["dissimilarity"] < 0.05
    assert "arrangements for 22 s" in stdout and str(out) in stdout.replace("\n", "")


def test_export_writes_the_chosen_candidate(
    song_wav: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = tmp_path / "resize.json"
    wav = tmp_path / "short.wav"
    status, stdout, stderr = _run(
        capsys,
        "resize",
        song_wav,
        "-t",
        22,
        "-n",
        5,
        "--json",
        listing,
        "--export",
        wav,
        "--pick",
        2,
    )
    assert status == 0, stderr
    chosen = json.loads(listing.read_text())["result"][1]
    written = decode(wav)
    assert written.duration_s == pytest.approx(chosen["durationSeconds"], abs=0.05)
    assert f"wrote {wav} (candidate 2)" in stdout.replace("\n", "")
    assert np.max(np.abs(written.samples)) > 0.05  # music, not silence


def test_a_saved_analysis_is_used_instead_of_the_audio(
    song_wav: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    analysis = tmp_path / "analysis.json"
    assert _run(capsys, "analyze", song_wav, "--json", analysis)[0] == 0
    direct, from_file = tmp_path / "direct.json", tmp_path / "file.json"
    assert _run(capsys, "resize", song_wav, "-t", 46, "--json", direct)[0] == 0
    status, _, stderr = _run(
        capsys, "resize", song_wav, "-t", 46, "--analysis", analysis, "--json", from_file
    )
    assert status == 0, stderr
    a = json.loads(direct.read_text())["result"]
    b = json.loads(from_file.read_text())["result"]
    # The saved similarity is quantised to 95 levels; the arrangements are the same.
    assert [x["segmentsBeats"] for x in a[:3]] == [x["segmentsBeats"] for x in b[:3]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-t", 3), "target_s = 3 s is out of range: allowed"),
        (("-t", 500), "at most 4 times the track"),
        (("-t", 22, "--pick", 30), "--pick must be 1..20"),
        (("-t", 22, "--count", 0), "--count must be 1..100"),
        (
            ("-t", 22, "--json", "/no/such/folder/x.json"),
            "the folder /no/such/folder does not exist",
        ),
    ],
    ids=["too short", "too long", "pick", "count", "json folder"],
)
def test_errors_are_one_line(
    song_wav: Path, capsys: pytest.CaptureFixture[str], args: tuple[object, ...], message: str
) -> None:
    status, stdout, stderr = _run(capsys, "resize", song_wav, *args)
    assert status == 1, stdout
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert message in lines[0]


_PACKED = {"data": "~" * (96 * 97 // 2)}  # 96 identical beats
_ANALYSIS = {"duration": 48.0, "boundaries": [i * 0.5 for i in range(96)]}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {**_ANALYSIS, "similarity": _PACKED, "beats_per_bar": 4, "bar_positions": 5},
            "bar_positions must be a list",
        ),
        (
            {**_ANALYSIS, "similarity": {**_PACKED, "min": "x"}},
            "similarity must be {data, min, max}",
        ),
        ({**_ANALYSIS, "similarity": {"data": "~"}}, "similarity data for 96 beats"),
    ],
    ids=["bar positions", "similarity codes", "similarity length"],
)
def test_a_bad_analysis_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: object, message: str
) -> None:
    analysis = tmp_path / "analysis.json"
    analysis.write_text(json.dumps(body))
    status, _, stderr = _run(capsys, "resize", tmp_path / "x.wav", "-t", 30, "--analysis", analysis)
    assert status == 1 and stderr.count("\n") == 1
    assert stderr.startswith("error: ") and message in stderr


def test_a_missing_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, stderr = _run(capsys, "resize", tmp_path / "none.wav", "-t", 20)
    assert status == 1 and stderr.count("\n") == 1 and "none.wav" in stderr


def test_free_start_and_end_give_excerpts(
    song_wav: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "excerpt.json"
    status, _, stderr = _run(
        capsys, "resize", song_wav, "-t", 6, "--free-start", "--free-end", "--json", out
    )
    assert status == 0, stderr
    result = json.loads(out.read_text())["result"]
    assert all(abs(item["durationSeconds"] - 6.0) <= BEAT_S for item in result)
    assert any(
        item["segmentsBeats"][0][0] > 0 or item["segmentsSeconds"][-1][1] < 29.9 for item in result
    ), "no excerpt was offered"
