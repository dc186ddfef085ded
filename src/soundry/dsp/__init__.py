"""Signal-processing primitives: loudness metering, filters, dynamics, limiting, stereo, reverb.

Every function takes and returns float arrays of shape ``(channels, frames)`` plus a sample
rate in Hz; none of them reads files or knows about the service.
"""

__all__: list[str] = []
