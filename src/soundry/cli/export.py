"""``soundry export``: stitch segments of one file into new files with inaudible seams."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from soundry.cli.app import app

InputArgument = Annotated[Path, typer.Argument(help="The music to cut from.")]
Segments = Annotated[
    str,
    typer.Option(
        "--segments",
        "-s",
        help=(
            "JSON: one group \\[\\[start_s, end_s], ...] or several groups "
            "\\[\\[\\[..], ...], \\[\\[..], ...]] (one file each), or @FILE to read it from FILE."
        ),
    ),
]
Output = Annotated[
    Path,
    typer.Option(
        "--output",
        "-o",
        help=(
            "Output file. With several groups: a name containing {n} (1, 2, ...), "
            "or an existing folder (files IN-1.mp3, IN-2.mp3, ...)."
        ),
    ),
]
Format = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help="mp3_320, mp3_256, mp3_128, wav, flac or aac. Default: from the output's "
        "suffix (.mp3 = mp3_320), else mp3_320.",
    ),
]
Crossfade = Annotated[
    float | None,
    typer.Option("--crossfade-ms", help="Crossfade before an attack, 5-200 ms (default 20)."),
]


@app.command("export")
def export_command(
    input_path: InputArgument,
    segments: Segments,
    output: Output,
    format: Format = None,
    crossfade_ms: Crossfade = None,
) -> None:
    """Stitch segments of IN into one file per group, with seams you cannot hear.

    Seams are cut just before the beat's attack, aligned by cross-correlation and
    crossfaded; contiguous segments (a-b then b-c) play as one. Every group is
    checked before anything is decoded or written; each file is written atomically.

    Example: soundry export song.flac --segments "\\[\\[0,29.77],\\[171.36,175.24]]" -o short.mp3
    """
    from soundry.engine.export import SeamSettings, export_files
    from soundry.engine.export.segments import normalise_groups
    from soundry.errors import ParameterError

    groups = normalise_groups(_parse_segments(segments))
    if not input_path.is_file():
        raise ParameterError(f"{input_path}: no such file")
    destinations = _destinations(output, len(groups), input_path, format)
    settings = SeamSettings() if crossfade_ms is None else SeamSettings(crossfade_ms=crossfade_ms)
    written = export_files(input_path, groups, destinations, format=format, settings=settings)
    console = Console(soft_wrap=True)
    for path, group in zip(written, groups, strict=True):
        total = sum(end - start for start, end in group)
        console.print(f"wrote {path} ({len(group)} segment(s), {total:.2f} s asked)")


def _parse_segments(text: str) -> Any:
    from soundry.errors import ParameterError

    source = "--segments"
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text()
        except OSError as exc:
            raise ParameterError(f"{path}: cannot read the segments ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise ParameterError(f"{path}: the segments file is not UTF-8 text (JSON)") from None
        source = str(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParameterError(
            f"{source} is not valid JSON ({exc.msg} at character {exc.pos}); "
            'expected e.g. "[[0, 29.77], [171.36, 175.24]]"'
        ) from None
    if isinstance(data, dict) and "segments" in data:
        data = data["segments"]
    return data


def _destinations(output: Path, count: int, input_path: Path, format: str | None) -> list[Path]:
    from soundry.engine.export.formats import DEFAULT_FORMAT, resolve_format
    from soundry.errors import ParameterError

    try:
        is_folder = output.is_dir()
    except OSError as exc:  # e.g. a name too long: the library names the problem
        raise ParameterError(f"{output}: not a usable output name ({exc.strerror})") from None
    if is_folder:
        suffix = resolve_format(format or DEFAULT_FORMAT).suffix
        if count == 1:
            return [output / f"{input_path.stem}-export{suffix}"]
        return [output / f"{input_path.stem}-{n}{suffix}" for n in range(1, count + 1)]
    if "{n}" in output.name:
        return [output.with_name(output.name.replace("{n}", str(n))) for n in range(1, count + 1)]
    if count > 1:
        raise ParameterError(
            f"{count} groups of segments need {count} files: give -o a name with {{n}} "
            f"(e.g. {output.stem}-{{n}}{output.suffix}) or an existing folder"
        )
    if not output.suffix:
        output = output.with_suffix(resolve_format(format or DEFAULT_FORMAT).suffix)
    return [output]
