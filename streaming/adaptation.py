"""What per-viewer adaptation (issue 14 §2-§4) exchanges between its parts (pure values).

The plane (streaming/source.py, streaming/viewer.py) describes a simulcast track's layers as
:class:`LayerOption`; a viewer's page says what it shows as :class:`TileView`; the chooser
(streaming/layer_choice.py) answers a :class:`Choice` for one viewer of one track.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Reason = Literal["bandwidth", "tile", "hidden", "weak", "only"]


@dataclass(frozen=True, slots=True)
class TileView:
    """What a viewer's page shows of one video: its tile's size in device pixels (0: unknown,
    no limit) and whether it is visible at all (a hidden tab, a tile scrolled away)."""

    width: int = 0
    height: int = 0
    visible: bool = True


@dataclass(frozen=True, slots=True)
class LayerOption:
    """One layer of a track as a chooser sees it; a track's options go lowest first.

    ``bitrate_bps`` is what the layer carried lately (0: nothing arrives); ``width`` and
    ``height`` come from its last keyframe where the codec says (VP8), else 0; ``active`` is
    False while the publisher does not send it (paused, or not arriving). ``paused``: a layer
    paused by dynacast (issue 14 §4), offered as active at the rate it had: a memory, not a
    measurement (it may be its encoder's ramp-up after going live).
    """

    rid: str
    bitrate_bps: int
    width: int = 0
    height: int = 0
    active: bool = True
    paused: bool = False


@dataclass(frozen=True, slots=True)
class Choice:
    """The layer one viewer should get (an index into the options), or None: no video.

    ``reason`` says why: ``bandwidth`` (the best its link carries), ``tile`` (a larger one would
    not show), ``hidden`` (nothing shows: video paused, audio goes on), ``weak`` (even the
    lowest layer does not fit: audio only, the page says so), ``only`` (one layer to choose).
    """

    layer: int | None
    reason: Reason
