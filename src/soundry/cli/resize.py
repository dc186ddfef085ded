"""``soundry resize``: re-arrangements of a song for a target length, and the best one as
a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from soundry.cli.app import app

InputArgument = Annotated[Path, typer.Argument(help="The music to resize.")]
Target = Annotated[
    float, typer.Option("--target", "-t", help="Wanted length, seconds.", show_default=False)
]
Count = Annotated[int, typer.Option("--count", "-n", help="How many candidates (1-100).")]
JsonPath = Annotated[
    Path | None,
    typer.Option("--json", help="Write the candidates as JSON (Audjust's result keys) here."),
]
ExportPath = Annotated[
    Path | None,
    typer.Option(
        "--export",
        "-o",
        help="Also stitch a candidate (the best, or --pick) into this file (.mp3, .wav, "
        ".flac, .m4a).",
    ),
]
Pick = Annotated[int, typer.Option("--pick", help="Which candidate --export writes (1 = best).")]
KeepStart = Annotated[
    bool, typer.Option("--keep-start/--free-start", help="Open with the song's start.")
]
KeepEnd = Annotated[bool, typer.Option("--keep-end/--free-end", help="Close with the song's end.")]
MinSegment = Annotated[
    int | None,
    typer.Option("--min-segment-beats", help="Shortest segment in beats (default two bars)."),
]
AnalysisPath = Annotated[
    Path | None,
    typer.Option(
        "--analysis",
        help="Use this analysis JSON (from soundry analyze --json, or Audjust's) instead of "
        "analysing IN.",
    ),
]


@app.command("resize")
def resize_command(
    input_path: InputArgument,
    target: Target,
    count: Count = 20,
    json_path: JsonPath = None,
    export: ExportPath = None,
    pick: Pick = 1,
    keep_start: KeepStart = True,
    keep_end: KeepEnd = True,
    min_segment_beats: MinSegment = None,
    analysis_path: AnalysisPath = None,
) -> None:
    """Find re-arrangements of IN that play for --target seconds, shorter or longer.

    Cuts fall on bar lines between beats that sound alike; the intro and the ending stay
    unless told otherwise. Prints the candidates best first; --json writes them with
    Audjust's keys; --export stitches one into an audio file.

    Example: soundry resize song.flac --target 30 --export short.mp3
    """
    from soundry.audio import decode
    from soundry.engine.resize import MAX_COUNT, resize, resize_beats
    from soundry.errors import ParameterError

    for path in (json_path, export):
        if path is not None and not path.parent.is_dir():
            raise ParameterError(f"{path}: the folder {path.parent} does not exist")
    if not 1 <= count <= MAX_COUNT:
        raise ParameterError(f"--count must be 1..{MAX_COUNT}; got {count}")
    if not 1 <= pick <= count:
        raise ParameterError(f"--pick must be 1..{count} (one of the candidates); got {pick}")
    options: dict[str, Any] = {
        "count": count,
        "keep_start": keep_start,
        "keep_end": keep_end,
        "min_segment_beats": min_segment_beats,
    }
    audio = None
    if analysis_path is None:
        from soundry.engine.analysis import analyze

        audio = decode(input_path)
        # The audio lets the search keep seams level (loudness across each cut).
        candidates = resize(analyze(audio), target, audio=audio, **options)
    else:
        beats, similarity, duration_s, meter = _read_analysis(analysis_path)
        candidates = resize_beats(beats, similarity, duration_s, target, **meter, **options)
    if json_path is not None:
        _write_json(json_path, target, candidates)
    written = None
    if export is not None:
        if pick > len(candidates):
            raise ParameterError(f"--pick {pick}: only {len(candidates)} candidate(s) were found")
        from soundry.engine.export import export_files

        source = audio if audio is not None else input_path
        written = export_files(source, [candidates[pick - 1].segments_s], [export])[0]
    _print_table(input_path, target, candidates, json_path, written, pick)


def _read_analysis(path: Path) -> tuple[Any, Any, float, dict[str, Any]]:
    from soundry.engine.analysis import decode_similarity
    from soundry.errors import ParameterError

    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ParameterError(f"{path}: cannot read the analysis ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise ParameterError(f"{path}: not valid JSON ({exc.msg} at {exc.pos})") from None
    if isinstance(data, dict) and isinstance(data.get("result"), dict):
        data = data["result"]  # an Audjust webhook body
    if not isinstance(data, dict):
        data = {}
    missing = [k for k in ("duration", "boundaries", "similarity") if k not in data]
    if missing:
        raise ParameterError(
            f"{path}: an analysis needs duration, boundaries and similarity; missing "
            f"{', '.join(missing)}"
        )
    beats = data["boundaries"]
    packed = data["similarity"]
    try:
        similarity = decode_similarity(
            packed["data"], len(beats), packed.get("min", 32), packed.get("max", 126)
        )
    except ParameterError:
        raise
    except (TypeError, KeyError, ValueError):  # ValueError: min or max not integers
        raise ParameterError(
            f"{path}: similarity must be {{data, min, max}} as soundry analyze writes it"
        ) from None
    meter: dict[str, Any] = {}
    if "beats_per_bar" in data and "bar_positions" in data:
        try:
            positions = list(data["bar_positions"])
        except TypeError:
            raise ParameterError(
                f"{path}: bar_positions must be a list (each beat's position in its bar)"
            ) from None
        meter["beats_per_bar"] = data["beats_per_bar"]
        meter["downbeat_index"] = positions.index(0) if 0 in positions else None
    return beats, similarity, data["duration"], meter


def _write_json(path: Path, target_s: float, candidates: list[Any]) -> None:
    from soundry.audio._atomic import atomic_path

    body = {"targetLengthSeconds": target_s, "result": [c.to_dict() for c in candidates]}
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(body))


def _print_table(
    path: Path,
    target_s: float,
    candidates: list[Any],
    json_path: Path | None,
    written: Path | None,
    pick: int,
) -> None:
    console = Console(soft_wrap=True)
    table = Table(title=f"{path.name}: {len(candidates)} arrangements for {target_s:g} s")
    for column, justify in (
        ("#", "right"),
        ("length s", "right"),
        ("error s", "right"),
        ("cuts", "right"),
        ("dissimilarity", "right"),
        ("score", "right"),
        ("segments (source seconds)", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for rank, c in enumerate(candidates, start=1):
        spans = "  ".join(f"{a:.2f}-{b:.2f}" for a, b in c.segments_s)
        table.add_row(
            str(rank),
            f"{c.duration_s:.2f}",
            f"{c.duration_error_s:+.2f}",
            str(c.cut_count),
            f"{c.dissimilarity:.3f}",
            f"{c.blended_score:.3f}",
            spans,
        )
    console.print(table)
    if json_path is not None:
        console.print(f"wrote {json_path}")
    if written is not None:
        console.print(f"wrote {written} (candidate {pick})")
