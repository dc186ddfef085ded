"""export / export_files: formats, exact lossless codes, all-or-nothing writes."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from soundry.audio import decode
from soundry.engine.export import EXPORT_FORMATS, export, export_files, stitch_groups
from soundry.errors import ParameterError

from .signals import RATE, click_track

GROUPS = [[[0.0, 4.0], [10.0, 14.0]], [[2.0, 6.0], [6.0, 8.0]]]


@pytest.fixture(scope="module")
def wav16(tmp_path_factory: pytest.TempPathFactory) -> Path:
    audio, _ = click_track()
    path = tmp_path_factory.mktemp("export") / "clicks.wav"
    sf.write(path, audio.samples.T, RATE, subtype="PCM_16")
    return path


@pytest.mark.parametrize("name", list(EXPORT_FORMATS))
def test_every_format_decodes_back_at_the_stitched_length(wav16: Path, name: str) -> None:
    source = decode(wav16)
    expected = [s.duration_s for s in stitch_groups(source, GROUPS)]
    files = export(wav16, GROUPS, format=name)
    assert len(files) == 2
    for data, duration_s in zip(files, expected, strict=True):
        back = decode(data)
        # Lossy codecs pad a frame or two of priming/padding at most.
        assert back.duration_s == pytest.approx(duration_s, abs=0.06)
        assert back.channels == 2
        fmt = EXPORT_FORMATS[name]
        if fmt.bitrate_kbps is not None and fmt.codec == "mp3":
            assert back.source is not None
            assert back.source.bitrate_bps == pytest.approx(fmt.bitrate_kbps * 1000, rel=0.05)


def test_lossless_export_keeps_the_source_codes_outside_the_seams(wav16: Path) -> None:
    source = decode(wav16)
    stitched = stitch_groups(source, GROUPS)
    for name in ("wav", "flac"):
        for data, item in zip(export(source, GROUPS, format=name), stitched, strict=True):
            back = decode(data)
            assert back.source is not None and back.source.bit_depth == 16
            verbatim = np.ones(item.audio.frames, bool)
            for start, end in item.mixed:
                verbatim[start:end] = False
            assert np.array_equal(back.samples[:, verbatim], item.audio.samples[:, verbatim])
            # Mixed samples are rounded to 16 bits, within dither of the float render.
            diff = np.abs(back.samples - item.audio.samples)
            assert diff.max() <= 2.0 / 32768


def test_export_accepts_bytes_and_file_objects(wav16: Path) -> None:
    data = wav16.read_bytes()
    a = export(data, GROUPS[:1], format="flac")
    b = export(io.BytesIO(data), GROUPS[:1], format="flac")
    assert a == b


def test_export_files_writes_every_group_and_infers_formats(wav16: Path, tmp_path: Path) -> None:
    paths = export_files(wav16, GROUPS, [tmp_path / "a.mp3", tmp_path / "b.flac"])
    assert [p.name for p in paths] == ["a.mp3", "b.flac"]
    assert decode(paths[0]).source.codec == "mp3"  # type: ignore[union-attr]
    assert decode(paths[1]).source.codec == "flac"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("groups", "names", "message"),
    [
        ([[[0.0, 4.0]], [[5.0, 3.0]]], ["a.wav", "b.wav"], "group 1, segment 0"),
        (GROUPS, ["a.wav"], "2 group(s) of segments but 1 destination"),
        (GROUPS, ["a.wav", "a.wav"], "twice"),
        (GROUPS, ["a.wav", "b.ogg"], "suffix"),
        (GROUPS, ["a.wav", "missing/b.wav"], "does not exist"),
        (GROUPS, ["a.wav", "b" * 300 + ".wav"], "not a usable file name"),
    ],
)
def test_export_files_writes_nothing_when_anything_is_wrong(
    wav16: Path, tmp_path: Path, groups: object, names: list[str], message: str
) -> None:
    (tmp_path / "a.wav").write_bytes(b"old")
    with pytest.raises(ParameterError) as info:
        export_files(wav16, groups, [tmp_path / n for n in names])
    assert message in str(info.value)
    assert (tmp_path / "a.wav").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav"]


def test_format_that_contradicts_the_suffix_is_refused(wav16: Path, tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="contradicts"):
        export_files(wav16, GROUPS[:1], [tmp_path / "a.mp3"], format="flac")
