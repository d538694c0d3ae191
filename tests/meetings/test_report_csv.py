"""The meetings CSV cannot run as a spreadsheet formula, whatever the spreadsheet's separator
(OWASP "CSV injection"; Excel in Russian and German locales splits on ``;``)."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest

from rooms.trade.report import CSV_COLUMNS, defuse, export_csv
from tests.meetings.builders import request_for, slot

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ATTACK = "ok;=cmd|' /C calc'!A0"


@pytest.mark.parametrize(("cell", "safe"), [
    ("=1+1", "'=1+1"),
    ("+7 495 000", "'+7 495 000"),
    ("-2", "'-2"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t'=1"),
    ("\r=1", "'\r'=1"),
    (ATTACK, "ok;'=cmd|' /C calc'!A0"),
    ("a,=HYPERLINK(\"http://x\")", "a,'=HYPERLINK(\"http://x\")"),
    ("a\t@b", "a\t'@b"),
    ("line\n=2", "line\n'=2"),
    ("Hello, see you at 10:00 - Kim", "Hello, see you at 10:00 - Kim"),
    ("user@example.com", "user@example.com"),
    ("", ""),
])
def test_defuse_prefixes_every_formula_start(cell: str, safe: str) -> None:
    assert defuse(cell) == safe


def test_every_cell_is_quoted_and_no_segment_starts_a_formula() -> None:
    meeting = replace(request_for(slot(), "kim"), message=ATTACK, buyer_name="=cmd")
    text = export_csv([meeting], {}, "Europe/Moscow")
    header, row = text.split("\r\n")[:2]
    assert header == ",".join(f'"{c}"' for c in CSV_COLUMNS)
    assert row.startswith('"') and row.endswith('"') and '","' in row, "QUOTE_ALL"
    assert "\"ok;'=cmd|' /C calc'!A0\"" in row and "\"'=cmd\"" in row
    for delimiter in (",", ";"):  # as Excel reads it in each locale, quotes or not
        for line in text.split("\r\n"):
            for segment in line.replace('"', "").split(delimiter):
                assert not segment.startswith(TRIGGERS), (delimiter, segment)
    [parsed] = list(csv.DictReader(io.StringIO(text)))
    assert parsed["message"] == "ok;'=cmd|' /C calc'!A0"
