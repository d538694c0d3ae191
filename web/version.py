"""The installed distribution's version, read without importing the rest of the node."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    try:
        return version("pavilion")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"
