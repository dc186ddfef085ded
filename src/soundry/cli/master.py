"""``soundry master``, ``soundry master-preview`` and ``soundry master-album``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from soundry.cli.app import app

InputArgument = Annotated[Path, typer.Argument(help="The mix to master.")]
Loudness = Annotated[
    str, typer.Option("--loudness", help="Target LUFS (-24..-6) or LOW, MEDIUM, HIGH.")
]
Ceiling = Annotated[float, typer.Option("--ceiling", help="True-peak ceiling, dBTP.")]
Profile = Annotated[str | None, typer.Option("--profile", help="Tonal profile a..n.")]
Intensity = Annotated[float, typer.Option("--intensity", help="Tonal intensity 0..100.")]
Style = Annotated[str | None, typer.Option("--style", help="Musical style, e.g. POP, ROCK_INDIE.")]
StereoImage = Annotated[bool, typer.Option("--stereo-image", help="Balance stereo width per band.")]
Reference = Annotated[Path | None, typer.Option("--reference", help="A track to match.")]
Blend = Annotated[float, typer.Option("--reference-blend", help="How far toward it, 0..100.")]
Format = Annotated[str | None, typer.Option("--format", help="wav, flac, aiff, mp3, aac, ogg.")]
SampleRate = Annotated[int | None, typer.Option("--sample-rate", help="Output rate, Hz.")]
BitDepth = Annotated[int | None, typer.Option("--bit-depth", help="16 or 24.")]
ReportPath = Annotated[Path | None, typer.Option("--report", help="Write the JSON report here.")]


def _settings(**values: Any) -> Any:
    from soundry.engine.mastering.settings import MasterSettings, resolve_loudness

    values["target_lufs"] = resolve_loudness(values["target_lufs"])
    return MasterSettings(**values)


def _write_json(path: Path, data: object) -> None:
    from soundry.audio._atomic import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2))


def _stages() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )


@app.command("master")
def master_command(
    input_path: InputArgument,
    output: Annotated[Path, typer.Option("-o", "--output", help="The master file to write.")],
    loudness: Loudness = "-14",
    ceiling: Ceiling = -1.0,
    profile: Profile = None,
    intensity: Intensity = 100.0,
    style: Style = None,
    stereo_image: StereoImage = False,
    reference: Reference = None,
    reference_blend: Blend = 100.0,
    output_format: Format = None,
    sample_rate: SampleRate = None,
    bit_depth: BitDepth = None,
    report: ReportPath = None,
) -> None:
    """Master a mix: loudness target, true-peak ceiling, tone, stereo image, reference.

    Writes the master in the source's format unless told otherwise, and a JSON report.
    """

    from soundry.audio import decode
    from soundry.audio.decode import probe
    from soundry.audio.stream import ArraySource, PcmSource, SoundFileSource
    from soundry.engine.mastering.files import can_stream, master_to_file
    from soundry.engine.mastering.output import choose_output_format
    from soundry.engine.mastering.streamed import check_masterable

    settings = _settings(
        target_lufs=loudness,
        ceiling_dbtp=ceiling,
        profile=profile,
        intensity=intensity,
        style=style,
        stereo_image=stereo_image,
        reference_blend=reference_blend,
    )
    _check_folders(output, report)
    source_format = probe(input_path)
    fmt = choose_output_format(
        source_format, output, format=output_format, sample_rate=sample_rate, bit_depth=bit_depth
    )
    with _stages() as progress:
        task = progress.add_task(f"mastering {input_path.name}", total=1.0)

        def show(step: str, share: float) -> None:
            progress.update(task, description=f"{step} {input_path.name}", completed=share)

        source: PcmSource
        if can_stream(source_format):
            # Read a chunk at a time: any length in bounded memory.
            source = SoundFileSource(input_path)
        else:
            progress.update(task, description=f"decoding {input_path.name}")
            audio = decode(input_path)
            check_masterable(audio.channels, audio.frames, audio.sample_rate)
            source = ArraySource(audio.samples, audio.sample_rate)
            source_format = audio.source or source_format
        ref_source = None if reference is None else _reference_source(reference)
        try:
            done = master_to_file(
                source,
                output,
                settings,
                fmt,
                media_info=source_format.to_dict(),
                reference=ref_source,
                progress=show,
            )
        finally:
            if isinstance(source, SoundFileSource):
                source.close()
        result = _delivered(
            done.report,
            settings.ceiling_dbtp,
            done.limiter_ceiling_dbtp,
            done.delivered_true_peak_dbtp,
            fmt.format,
        )
        if report is not None:
            _write_json(report, result.to_dict())
    _print_summary(result.to_dict(), output)


@app.command("master-preview")
def master_preview_command(
    input_path: InputArgument,
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Folder for the previews.")],
    variant: Annotated[
        list[str],
        typer.Option(
            "--variant",
            help='Up to 5, each "key=value,...": profile, intensity, loudness, ceiling, '
            "stereo_image, style. Default: one variant with the defaults.",
        ),
    ] = [],  # noqa: B006  (typer reads the default; it is never mutated)
    start: Annotated[
        float | None, typer.Option("--start", help="Start, s (default: loudest 30 s).")
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="aac (m4a) or mp3.")] = "aac",
) -> None:
    """Render up to five 30 s previews, each its own settings, plus a JSON report for each."""
    from soundry.audio import decode, encode
    from soundry.engine.mastering.previews import master_previews
    from soundry.errors import ParameterError

    if output_format not in ("aac", "m4a", "mp3"):
        raise ParameterError(f"previews are encoded as aac (m4a) or mp3; got {output_format!r}")
    variants = [_parse_variant(text) for text in variant] or [_settings(target_lufs=-14.0)]
    with _stages() as progress:
        progress.add_task(f"mastering {len(variants)} preview(s) of {input_path.name}")
        audio = decode(input_path)
        previews = master_previews(audio, variants, start_s=start)
        out_dir.mkdir(parents=True, exist_ok=True)
        suffix = ".mp3" if output_format == "mp3" else ".m4a"
        written = []
        for index, preview in enumerate(previews, start=1):
            path = out_dir / f"preview-{index}{suffix}"
            audio_out = preview.audio
            if output_format == "mp3" and audio_out.sample_rate not in (32_000, 44_100, 48_000):
                from soundry.audio import resample

                audio_out = resample(audio_out, 48_000)
            encode(audio_out, path, format="mp3" if output_format == "mp3" else "m4a")
            _write_json(path.with_suffix(".json"), preview.report.to_dict())
            written.append((path, preview))
    console = Console()
    for path, preview in written:
        target = preview.report.target
        console.print(
            f"{path}: start {preview.start_s:.1f} s, {preview.duration_s:.1f} s, "
            f"settings {preview.settings.to_dict()}, full-track loudness "
            f"{target['integrated_lufs']:.2f} LUFS"
        )


@app.command("master-album")
def master_album_command(
    inputs: Annotated[list[Path], typer.Argument(help="The album's mixes, in order.")],
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Folder for the masters.")],
    loudness: Loudness = "-14",
    ceiling: Ceiling = -1.0,
    profile: Profile = None,
    intensity: Intensity = 100.0,
    style: Style = None,
    output_format: Format = None,
) -> None:
    """Master several tracks so they sit together: one tonal balance, consistent loudness."""
    from soundry.audio import decode, encode
    from soundry.engine.mastering.album import master_album
    from soundry.engine.mastering.output import choose_output_format

    settings = _settings(
        target_lufs=loudness,
        ceiling_dbtp=ceiling,
        profile=profile,
        intensity=intensity,
        style=style,
    )
    with _stages() as progress:
        progress.add_task(f"mastering {len(inputs)} tracks as an album")
        tracks = [decode(path) for path in inputs]
        result = master_album(tracks, settings)
        out_dir.mkdir(parents=True, exist_ok=True)
        for path, track, audio in zip(inputs, tracks, result.tracks, strict=True):
            fmt = choose_output_format(track.source, None, format=output_format)
            suffix = {"aac": ".m4a"}.get(fmt.format, f".{fmt.format}")
            encode(audio, out_dir / f"{path.stem}-master{suffix}", **fmt.encode_options())  # type: ignore[arg-type]
        _write_json(out_dir / "album-report.json", result.summary)
    Console().print_json(json.dumps(result.summary))


def _check_folders(*paths: Path | None) -> None:
    """Fail before any work when an output could not be written at the end."""
    from soundry.errors import ParameterError

    for path in paths:
        if path is not None and not path.parent.is_dir():
            raise ParameterError(f"{path}: the folder {path.parent} does not exist")


def _delivered(
    report: Any, ceiling_dbtp: float, limiter_ceiling_dbtp: float, true_peak_dbtp: float, fmt: str
) -> Any:
    """``report`` with what was delivered: the user's ceiling, the limiter's (lower for a
    lossy file that overshot), the output file's true peak and format."""
    from dataclasses import replace

    target = {
        **report.target,
        "ceiling_dbtp": ceiling_dbtp,
        "limiter_ceiling_dbtp": limiter_ceiling_dbtp,
        "delivered_true_peak_dbtp": true_peak_dbtp,
        "output_format": fmt,
    }
    return replace(report, target=target)


def _reference_source(path: Path) -> Any:
    """A reference read span by span when libsndfile can seek it, else decoded."""
    from soundry.audio import decode
    from soundry.audio.decode import probe
    from soundry.audio.stream import ArraySource, SoundFileSource
    from soundry.engine.mastering.files import STREAMED_CONTAINERS

    if probe(path).container in STREAMED_CONTAINERS:
        return SoundFileSource(path)
    audio = decode(path)
    return ArraySource(audio.samples, audio.sample_rate)


def _parse_variant(text: str) -> Any:
    from soundry.errors import ParameterError

    keys = {"profile", "intensity", "loudness", "ceiling", "stereo_image", "style"}
    values: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        key = key.strip().lower().replace("-", "_")
        if not sep or key not in keys:
            raise ParameterError(
                f"variant {text!r}: expected key=value pairs with keys {', '.join(sorted(keys))}"
            )
        values[key] = value.strip()
    stereo = values.get("stereo_image", "false").lower()
    if stereo not in ("true", "false", "1", "0", "on", "off", "yes", "no"):
        raise ParameterError(f"variant {text!r}: stereo_image must be true or false")
    try:
        return _settings(
            target_lufs=values.get("loudness", "-14"),
            ceiling_dbtp=float(values.get("ceiling", -1.0)),
            profile=values.get("profile"),
            intensity=float(values.get("intensity", 100.0)),
            style=values.get("style"),
            stereo_image=stereo in ("true", "1", "on", "yes"),
        )
    except ValueError as exc:
        raise ParameterError(f"variant {text!r}: {exc}") from None


def _print_summary(report: dict[str, Any], output: Path) -> None:
    before, after = report["before"]["loudness"], report["after"]["loudness"]
    target = report["target"]
    console = Console()
    console.print(
        f"wrote {output}: {_num(before['integrated_lufs'])} -> {_num(after['integrated_lufs'])}"
        f" LUFS (target {target['target_lufs']:g}), true peak"
        f" {_num(target.get('delivered_true_peak_dbtp', after['true_peak_dbtp']))}"
        f" dBTP (ceiling {target['ceiling_dbtp']:g}), LRA {_num(before['lra_lu'])} ->"
        f" {_num(after['lra_lu'])} LU"
    )
    if target["note"]:
        console.print(f"note: {target['note']}")


def _num(value: object) -> str:
    return "-inf" if value is None else f"{value:.2f}"
