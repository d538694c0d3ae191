"""Finalising an interrupted recording (issue 15 §3): a node killed mid-recording leaves
crash-safe files (WebM clusters, MP4 fragments) without a duration or cues. :func:`finalise`
remuxes each one (stream copy, never decoded) in a thread so it gets both, keeping whatever
of a torn last cluster or fragment can be read. Each finished file is named in the directory's
``.finalised`` list, so calling it again only describes them: it is idempotent (and a
finalise killed half-way goes on with the files it had not done).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from pathlib import Path

import av
from av.container import InputContainer, OutputContainer

from streaming.muxer import NOMINAL_FPS
from streaming.recording_spec import RecordedFile

logger = logging.getLogger(__name__)
EXTENSIONS = {".webm": "webm", ".mp4": "mp4"}
PART = re.compile(r"-\d+$")
PROGRAM = "program"
DONE_LIST = ".finalised"


async def finalise(directory: Path) -> tuple[RecordedFile, ...]:
    """Remux every recording file in ``directory``; returns them, whole."""
    return await asyncio.to_thread(finalise_now, directory)


def finalise_now(directory: Path) -> tuple[RecordedFile, ...]:
    """:func:`finalise`, blocking: for a thread or a command-line tool."""
    done_list = directory / DONE_LIST
    done = set(done_list.read_text().split()) if done_list.exists() else set()
    files = []
    for path in sorted(directory.iterdir()):
        if path.suffix not in EXTENSIONS or path.name.startswith("."):
            continue
        if path.name in done:
            files.append(describe(path))
            continue
        files.append(remux(path))
        with done_list.open("a") as listed:
            listed.write(path.name + "\n")
    return tuple(files)


def remux(path: Path) -> RecordedFile:
    """Rewrite ``path`` by stream copy through a temporary file, then replace it atomically."""
    container = EXTENSIONS[path.suffix]
    temporary = path.with_name(f".{path.name}.finalising")
    with av.open(str(path)) as source, av.open(
        str(temporary), "w", format=container,
        options={"movflags": "+faststart"} if container == "mp4" else {},
    ) as target:
        _copy(source, target)
    os.replace(temporary, path)
    return describe(path)


def _copy(source: InputContainer, target: OutputContainer) -> None:
    streams = {s.index: target.add_stream_from_template(s, opaque=True)
               for s in source.streams if s.type in ("video", "audio")}
    for stream in streams.values():
        if stream.type == "video":  # short default frame durations, as the muxer writes them
            stream.codec_context.framerate = NOMINAL_FPS  # type: ignore[attr-defined]
    try:
        for packet in source.demux(*[source.streams[i] for i in streams]):
            if packet.dts is None:
                continue  # the flush packet at the end of each stream
            packet.stream = streams[packet.stream_index]
            target.mux(packet)
    except (av.error.InvalidDataError, av.error.EOFError) as exc:
        logger.info("%s: kept what was readable before a torn end (%s)", source.name, exc)


def describe(path: Path) -> RecordedFile:
    """The record of a finished file, read back from it."""
    container = EXTENSIONS[path.suffix]
    with av.open(str(path)) as done:
        duration_s = (done.duration or 0) / av.time_base
        has_video = any(s.type == "video" for s in done.streams)
    kind = PROGRAM if path.stem == PROGRAM else "participant"
    media_type = f"{'video' if has_video else 'audio'}/{container}"
    participant = "" if kind == PROGRAM else PART.sub("", path.stem)
    return RecordedFile(path.name, kind, media_type, path.stat().st_size, participant,
                        round(duration_s, 3))
