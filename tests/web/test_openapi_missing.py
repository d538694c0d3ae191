"""Issue 18 §2 follow-up (gap 6): the admin API's OpenAPI document is read once at start. A
node started without it (docs/ not shipped) refuses to start with one line naming the path,
instead of answering ``GET /api/admin/openapi.json`` with a 500 later; a broken one likewise."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.fixtures.pavilion import make_settings
from web import openapi_doc
from web.server import EXIT_REFUSED, serve


def test_the_document_loads_from_the_repository() -> None:
    assert openapi_doc.load().startswith(b"{")


@pytest.mark.parametrize("content", [None, "{not json", '{"swagger": "2.0"}'])
def test_serve_refuses_to_start_without_a_readable_document(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None) -> None:
    path = tmp_path / "admin-api.openapi.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    monkeypatch.setattr(openapi_doc, "DEFAULT_PATH", path)
    out, err = io.StringIO(), io.StringIO()
    assert serve(make_settings(), out, err) == EXIT_REFUSED
    lines = err.getvalue().strip().splitlines()
    assert lines[-1].startswith("pavilion: ") and str(path) in lines[-1]
    assert "Traceback" not in err.getvalue() and out.getvalue() == ""
