"""Engine operations (mastering, mixing, analysis, resize, export): arrays in, arrays and
reports out. Filled in by later work; the demo in :mod:`soundry.cli.demo` uses dsp directly."""

__all__: list[str] = []
