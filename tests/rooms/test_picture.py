"""rooms/picture.py: a picture is what its bytes are, within the caps (table-tested)."""

from __future__ import annotations

import pytest

from rooms.errors import InvalidInput
from rooms.picture import MAX_BYTES, MAX_SIDE, check_picture
from tests.pages import pictures


@pytest.mark.parametrize(("data", "kind", "size"), [
    (pictures.png(7, 3), "png", (7, 3)),
    (pictures.jpeg(640, 480), "jpeg", (640, 480)),
    (pictures.webp_lossless(3, 5), "webp", (3, 5)),
    (pictures.png_header(MAX_SIDE, MAX_SIDE), "png", (MAX_SIDE, MAX_SIDE)),
])
def test_accepted_by_content(data: bytes, kind: str, size: tuple[int, int]) -> None:
    picture = check_picture(data)
    assert (picture.kind, (picture.width, picture.height)) == (kind, size)
    assert picture.name == f"{picture.digest}.{kind}" and len(picture.digest) == 64


@pytest.mark.parametrize(("data", "code"), [
    (b"", "picture_empty"),
    (pictures.SVG, "bad_picture"),
    (pictures.HTML, "bad_picture"),
    (pictures.GIF, "bad_picture"),
    (pictures.FAKE_PNG, "bad_picture"),
    (pictures.FAKE_JPEG, "bad_picture"),
    (pictures.FAKE_WEBP, "bad_picture"),
    (pictures.png_header(MAX_SIDE + 1, 10), "picture_too_big"),
    (pictures.png_header(0, 10), "picture_too_big"),
    (pictures.jpeg(10, MAX_SIDE + 1), "picture_too_big"),
    (pictures.png() + b"\x00" * MAX_BYTES, "picture_too_large"),
])
def test_refused(data: bytes, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_picture(data)
    assert refused.value.code == code
