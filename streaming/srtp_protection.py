"""Who protects a viewer's outgoing RTP: the compiled AES-GCM or libsrtp (issue 19).

``streaming._srtpgcm`` (streaming/_srtpgcm.c, built by ``pip install`` where OpenSSL's headers
are) protects RTP with AES-GCM (RFC 7714) byte for byte as libsrtp does, for a fraction of
libsrtp's cost around the cipher. It is used for a viewer connection when it was built, the
connection negotiated an AEAD profile (``SRTP_AEAD_AES_128_GCM`` or ``_256_GCM``: what Chromium,
Firefox, Safari and aiortc offer first) and ``[media] srtp_backend`` is ``auto``; otherwise
libsrtp, as before. Either way every RTP packet of the connection goes through the one context
(the compiled fan-out's Port and the Egress's Python path call the same function with the same
context: an SSRC's packet index is kept in one place). RTCP stays with libsrtp (its index is
its own, RFC 3711 §3.4). The choice is logged at start and shown in ``/metrics``
(``pavilion_media_srtp_backend``).
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Any

from aiortc.rtcdtlstransport import RTCDtlsTransport

from streaming import aiortc_hooks

logger = logging.getLogger(__name__)
AEAD = frozenset({"SRTP_AEAD_AES_128_GCM", "SRTP_AEAD_AES_256_GCM"})
WINDOW = 1024  # aiortc's outbound policy's window_size: the same refusals as libsrtp's


@dataclass(frozen=True, slots=True)
class RtpProtection:
    """An srtp_protect-like C function and its context, as addresses; ``owner`` keeps the
    context alive as long as whoever holds this may call it."""

    function: int
    ctx: int
    owner: Any
    name: str  # "aes-gcm" (compiled) or "libsrtp"


def compiled() -> Any | None:
    """The compiled module, or None where it was not built."""
    try:  # by name: a compiled module is no node of the import graph the linters check
        return importlib.import_module("streaming._srtpgcm")
    except ImportError:
        return None


def engine(preference: str = "auto") -> str:
    """What protects RTP on connections that negotiated AES-GCM: ``aes-gcm`` or ``libsrtp``."""
    return "aes-gcm" if preference == "auto" and compiled() is not None else "libsrtp"


def announce(preference: str) -> str:
    """:func:`engine`, logged once at start (a missing build is a warning, as for sendmmsg)."""
    name = engine(preference)
    if name == "aes-gcm":
        logger.info("viewers' RTP is protected by the compiled AES-GCM (streaming._srtpgcm)")
    elif preference == "auto":
        logger.warning("streaming._srtpgcm is not built (OpenSSL headers missing?): viewers' "
                       "RTP is protected by libsrtp")
    return name


def for_viewer(dtls: RTCDtlsTransport, preference: str = "auto") -> RtpProtection:
    """The protection of one viewer connection's RTP, its DTLS done."""
    module = compiled() if preference == "auto" else None
    keys = aiortc_hooks.srtp_tx_master(dtls) if module is not None else None
    if module is not None and keys is not None and keys[0] in AEAD:
        protector = module.Protector(keys[1], WINDOW)
        return RtpProtection(protector.function, protector.ctx, protector, "aes-gcm")
    session = aiortc_hooks.srtp_pointer(dtls)
    ctx, function = aiortc_hooks.srtp_addresses(session)
    return RtpProtection(function, ctx, aiortc_hooks.srtp_owner(dtls), "libsrtp")
