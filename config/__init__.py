"""Settings of a Pavilion node: defaults, an optional TOML file, ``PAVILION_*`` overrides."""

from config.loader import ConfigError, load
from config.settings import LANGUAGES, IceServer, Language, MediaLimits, Settings, SignalingLimits

__all__ = [
    "LANGUAGES",
    "ConfigError",
    "IceServer",
    "Language",
    "MediaLimits",
    "Settings",
    "SignalingLimits",
    "load",
]
