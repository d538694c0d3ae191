"""Captured fixtures: real SDP offers from Chromium and GStreamer (see sdp/README.md)."""

from pathlib import Path

SDP_DIR = Path(__file__).parent / "sdp"
