"""Never a secret in a log line: the last step of every formatter (config/logs.py).

Two kinds of cleaning, on the whole formatted line (message, context and traceback alike):
values a node knows are secret (its token secret, API key, TURN shared secret, webhook
secrets) are replaced wherever they appear, and shapes that carry credentials whatever their
value are cut: JWTs, ``token=``/``sig=``/``key=``-like query values, ``Authorization`` values,
SDP ``a=ice-pwd:`` and ``a=crypto:... inline:`` keys, ICE and TURN passwords and credentials.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"
MIN_SECRET = 8  # shorter "secrets" would redact ordinary words; real ones are >= 32 bytes
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # a JWT (header.payload.signature, base64url, the header starts with '{"')
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
    # Authorization: Bearer x / 'authorization': 'Basic x' / authorization=x
    (re.compile(r"""(authorization['"]?\s*[:=]\s*['"]?(?:(?:bearer|basic|token)\s+)?)"""
                r"""[^\s'",;}&]+""", re.IGNORECASE), rf"\1{REDACTED}"),
    # query or form values: token=, sig=, key=, api_key=, secret=, password=, credential=...
    (re.compile(r"""((?:^|[?&;\s,({'"])(?:[a-z_]*token|sig|signature|[a-z_]*key|secret|"""
                r"""[a-z_]*password|pwd|credential|pass)=)[^&\s'",;)}]+""", re.IGNORECASE),
     rf"\1{REDACTED}"),
    # SDP: ICE passwords and SDES keys (a=fingerprint is public and stays)
    (re.compile(r"(a=ice-pwd:)\S+"), rf"\1{REDACTED}"),
    (re.compile(r"(inline:)[A-Za-z0-9+/=|:^]+"), rf"\1{REDACTED}"),
    # JSON or repr fields: "password": "x", 'credential': 'x', ice_pwd: x, remote_password=x
    (re.compile(r"""((?:[a-z_]*password|credential|ice[-_]?pwd|[a-z_]*secret|api[-_]?key|"""
                r"""srtp[-_]?key|master[-_]?key)['"]?\s*[:=]\s*(?:b?['"])?)[^\s'",}&)]+""",
                re.IGNORECASE), rf"\1{REDACTED}"),
)


class Scrubber:
    """Cleans formatted log lines; ``secrets`` are exact values never to be shown."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len,
                               reverse=True)

    def with_secrets(self, more: Iterable[str]) -> Scrubber:
        return Scrubber([*self._secrets, *more])

    def __call__(self, line: str) -> str:
        for secret in self._secrets:
            if secret in line:
                line = line.replace(secret, REDACTED)
        for pattern, replacement in _PATTERNS:
            line = pattern.sub(replacement, line)
        return line


def settings_secrets(settings: object) -> list[str]:
    """The secret values in a node's settings: ``secret``, ``api_key``, ``turn.shared_secret``
    and, where configured, every ``webhooks[].secret`` (dicts or objects)."""
    found: list[str] = []
    turn = getattr(settings, "turn", None)
    for value in (getattr(settings, "secret", None), getattr(settings, "api_key", None),
                  getattr(turn, "shared_secret", None)):
        found += _plain(value)
    for hook in getattr(settings, "webhooks", None) or ():
        found += _plain(hook.get("secret") if isinstance(hook, dict)
                        else getattr(hook, "secret", None))
    return found


def _plain(value: object) -> list[str]:
    if value is None:
        return []
    reveal = getattr(value, "get_secret_value", None)
    text = reveal() if callable(reveal) else value
    return [text] if isinstance(text, str) and text else []
