"""The seven pavilions of the China–Northeast Asia Expo, with stable ids.

Display names are translated by web's gettext catalog keyed on the id, not stored here: the id is
what goes into URLs, Redis and tokens, so it never changes once published.
"""

from __future__ import annotations

from enum import StrEnum


class Pavilion(StrEnum):
    SCIENCE_TECH = "science-tech"
    AUTOMOBILE = "automobile"
    NORTHEAST_ASIA = "northeast-asia"
    JILIN = "jilin"
    REGIONS = "regions"
    IMPORTED_GOODS = "imported-goods"
    NEW_MEDIA = "new-media"
