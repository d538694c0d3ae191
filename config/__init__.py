"""Settings of a Pavilion node: defaults, an optional TOML file, ``PAVILION_*`` overrides."""

from config.loader import ConfigError, load
from config.settings import (
    LANGUAGES,
    AdaptSettings,
    ClusterSettings,
    HlsSettings,
    IceServer,
    Language,
    MediaLimits,
    RecordingSettings,
    Settings,
    SignalingLimits,
    TurnSettings,
    WebhookDelivery,
    WebhookTarget,
    default_node_id,
)

__all__ = [
    "LANGUAGES",
    "AdaptSettings",
    "ClusterSettings",
    "ConfigError",
    "HlsSettings",
    "IceServer",
    "Language",
    "MediaLimits",
    "RecordingSettings",
    "Settings",
    "SignalingLimits",
    "TurnSettings",
    "WebhookDelivery",
    "WebhookTarget",
    "default_node_id",
    "load",
]
