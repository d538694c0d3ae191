"""The admin API's OpenAPI document (issue 18 §7), read once when the app is built.

The document lives in the repository at ``docs/admin-api.openapi.json`` (one source: the docs
and the route serve the same bytes). A node started without it (docs/ not shipped beside the
code) must not answer ``GET /api/admin/openapi.json`` with a 500 hours later: building the app
raises :class:`OpenApiMissing` with the path, and ``pavilion serve`` prints that one line and
exits with status 2 (web/server.py).
"""

from __future__ import annotations

import json
from pathlib import Path

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "docs" / "admin-api.openapi.json"


class OpenApiMissing(Exception):
    """The document is absent or not an OpenAPI document; the message names the path."""


def load(path: Path = DEFAULT_PATH) -> bytes:
    """The document's bytes, checked to be a JSON object with an ``openapi`` version."""
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise OpenApiMissing(f"the admin API's OpenAPI document {path} cannot be read "
                             f"({exc.strerror}); ship docs/ beside the code") from None
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise OpenApiMissing(f"the admin API's OpenAPI document {path} is not JSON: "
                             f"{exc}") from None
    if not isinstance(data, dict) or not str(data.get("openapi", "")).startswith("3."):
        raise OpenApiMissing(f"{path} is not an OpenAPI 3 document")
    return body
