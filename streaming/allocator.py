"""Allocator: the plane's one adaptation task (issue 14 §2-4).

Every ``TICK_S`` it measures each simulcast Source's layers once, lets every viewer connection
choose its layers (streaming/viewer_adapt.py), reports what changed (``on_quality``), and tells
each publisher which layers someone watches (``on_wanted``, dynacast: a layer unwatched for
``PAUSE_AFTER_S`` may pause at the publisher; one wanted again resumes at once). Between ticks,
while a viewer probes, it paces that viewer's padding every ``PACE_S``.

Layers paused by dynacast are still offered to choosers with the rate they had: a chooser that
picks one makes it wanted, the publisher resumes it, and the viewer moves at its first keyframe.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace

from streaming.source import Source
from streaming.viewer import ViewerLeg
from streaming.viewer_adapt import Quality, Ranked

TICK_S = 0.1
PACE_S = 0.01
PAUSE_AFTER_S = 3.0
RESUME_S = 2.0  # a layer told to resume is offered as paused until it arrives, this long at most

Shape = tuple[tuple[object, ...], ...]  # a Source's offer, rates aside
QualitySink = Callable[[ViewerLeg, Quality], None]
WantedSink = Callable[[Source, tuple[str, ...]], None]
logger = logging.getLogger(__name__)


class Allocator:
    """Runs adaptation for the viewers ``legs()`` returns; owned and stopped by the plane."""

    def __init__(
        self,
        legs: Callable[[], Iterable[ViewerLeg]],
        sources: Callable[[], Iterable[Source]],
        on_quality: QualitySink,
        on_wanted: WantedSink,
    ) -> None:
        self._legs = legs
        self._sources = sources
        self._on_quality = on_quality
        self._on_wanted = on_wanted
        self._task: asyncio.Task[None] | None = None
        self._unwanted_since: dict[tuple[int, int], float] = {}  # (id(source), layer) -> since
        self._paused: dict[int, set[int]] = {}  # id(source) -> layers told to pause
        self._told: dict[int, tuple[str, ...]] = {}  # id(source) -> active rids last told
        self._resumed: dict[int, dict[int, float]] = {}  # id(source) -> {layer: resumed at}
        self._shapes: dict[int, Shape] = {}  # id(source) -> its offer at the last tick
        self._probing: list[ViewerLeg] = []  # viewers the last tick left probing
        self.ticks = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="allocator")

    async def aclose(self) -> None:
        task, self._task = self._task, None
        while task is not None and not task.done():  # a swallowed cancel is cancelled again
            task.cancel()
            await asyncio.wait({task}, timeout=0.2)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        while True:
            now = loop.time()
            try:
                if now >= next_tick:
                    next_tick = now + TICK_S
                    self.tick(now)
                padding = self.pace(PACE_S, now)
            except Exception:  # one bad tick must not end adaptation for every viewer
                logger.exception("adaptation tick failed")
                padding = False
            await asyncio.sleep(PACE_S if padding else max(0.0, next_tick - loop.time()))

    def tick(self, now: float) -> None:
        """One round: every viewer chooses, every simulcast Source tells its wanted layers."""
        self.ticks += 1
        sources = {id(s): s for s in self._sources()
                   if s.kind == "video" and not s.ended.is_set()}
        ranked = {key: self._options(source, now) for key, source in sources.items()}
        changed = self._changed(ranked)
        options: Callable[[Source], Ranked] = lambda source: ranked.get(id(source), [])  # noqa: E731
        probing: list[ViewerLeg] = []
        for leg in list(self._legs()):
            if now < leg.adaptation.wake_at and not changed:
                continue  # settled, sampled, no news: nothing to do (ViewerAdaptation.wake_at)
            for quality in leg.adapt(options, now, changed):
                self._on_quality(leg, quality)
            if leg.adaptation.padding_bps > 0:
                probing.append(leg)
        self._probing = probing
        for source in sources.values():
            source.ask_again(now)
            if source.simulcast:
                self._dynacast(source, now)
        live = set(sources)
        for key in [k for k in self._paused if k not in live]:
            self._told.pop(key, None)
            self._paused.pop(key, None)
            self._resumed.pop(key, None)
        for pair in [p for p in self._unwanted_since if p[0] not in live]:
            del self._unwanted_since[pair]

    def _changed(self, ranked: dict[int, Ranked]) -> set[int]:
        """Sources whose offer changed since the last tick (a layer came, went, paused or
        resized; the Source itself came or ended): their settled viewers choose now (issue 19).
        A rate that drifts is not news: settled viewers see it every ``settled_ms``."""
        shapes: dict[int, Shape] = {
            key: tuple((index, o.active, o.paused, o.width, o.height) for index, o in options)
            for key, options in ranked.items()
        }
        changed = {key for key, shape in shapes.items() if self._shapes.get(key) != shape}
        changed.update(key for key in self._shapes if key not in shapes)
        self._shapes = shapes
        return changed

    def _options(self, source: Source, now: float) -> Ranked:
        """The Source's layers; one paused by dynacast looks active, at the rate it had."""
        paused = self._paused.get(id(source), set()) | self._resuming(source, now)
        return [
            (index, replace(option, active=True, paused=True,
                            bitrate_bps=source.layers[index].known_bps))
            if not option.active and index in paused and source.layers[index].known_bps
            else (index, option)
            for index, option in source.options(now)
        ]

    def _resuming(self, source: Source, now: float) -> set[int]:
        """Layers told to resume within ``RESUME_S`` that do not arrive yet: still offered as
        they were while paused. Without this, the viewer who asked for one saw it inactive at
        the next tick (the publisher's encoder needs a few hundred ms), went back down, and the
        layer, unwanted again, paused: a viewer never reached a paused layer (seen on a slow
        machine: h never came back for a 700 kbit/s viewer)."""
        resuming = self._resumed.get(id(source))
        if not resuming:
            return set()
        for index, since in list(resuming.items()):
            if now - since >= RESUME_S or source.layers[index].active(now):
                del resuming[index]
        return set(resuming)

    def _dynacast(self, source: Source, now: float) -> None:
        """Pause layers nobody got for ``PAUSE_AFTER_S``, resume wanted ones (issue 14 §4)."""
        wanted = set(source.wanted())
        paused = self._paused.setdefault(id(source), set())
        for layer in source.layers:
            key = (id(source), layer.index)
            if layer.rid in wanted:
                self._unwanted_since.pop(key, None)
                if layer.index in paused:
                    paused.discard(layer.index)
                    self._resumed.setdefault(id(source), {})[layer.index] = now
            elif now - self._unwanted_since.setdefault(key, now) >= PAUSE_AFTER_S:
                paused.add(layer.index)
        active = tuple(layer.rid for layer in source.layers if layer.index not in paused)
        if self._told.get(id(source), tuple(layer.rid for layer in source.layers)) != active:
            logger.info("%s: layers sent now %s", source.source_id, ",".join(active),
                        extra={"room": source.room, "track": source.source_id})
            self._on_wanted(source, active)
        self._told[id(source)] = active

    @property
    def paused_layers(self) -> int:
        """Simulcast layers told to pause now (dynacast), over every Source."""
        return sum(len(paused) for paused in self._paused.values())

    def pace(self, interval_s: float, now: float) -> bool:
        """Send each probing viewer its padding for ``interval_s``; True if any probes.
        Only a tick sets a viewer's padding rate, so the tick lists who probes: between ticks
        nobody else is looked at (issue 19: it looked at every viewer at every step)."""
        probing = False
        for leg in self._probing:
            bps = leg.adaptation.padding_bps
            if bps > 0:
                probing = True
                leg.pad(int(bps * interval_s / 8), now)
        return probing
