"""``Caller``: who calls trade docking, and what the organiser let their token do (issue 11).

The web layer verifies the access token and hands it to :meth:`Caller.of`; the service asks the
Caller (``may_exhibit``, ``may_request``) and never looks at grants itself. Only the organiser
issues ``exhibit`` and ``delegate``; a visitor token a public page mints has neither, so a free
identity is no longer a free exhibitor or buyer.
"""

from __future__ import annotations

from dataclasses import dataclass

from rooms.errors import NotAllowed
from rooms.token import AccessToken, Grant


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling and what their token allows in trade docking.

    ``organiser``: a token with the ``moderate`` grant on every room (``room: "*"``), allowed
    everything. ``exhibits``: the organiser-issued ``exhibit`` grant, so the caller may act as the
    exhibitor whose id is its identity (or as a team member that exhibitor named). ``delegate``:
    the organiser-issued ``delegate`` grant, so the caller may request meetings. A page-minted
    visitor token has neither. ``client`` is the network address the call came from ("" when
    unknown), for the per-client quota.
    """

    identity: str
    name: str = ""
    organiser: bool = False
    exhibits: bool = False
    delegate: bool = False
    client: str = ""

    @classmethod
    def of(cls, token: AccessToken, *, client: str = "") -> Caller:
        """What a verified access token allows: the one place a token becomes a Caller."""
        return cls(identity=token.identity, name=token.name,
                   organiser=token.room == "*" and token.allows(Grant.MODERATE),
                   exhibits=token.allows(Grant.EXHIBIT), delegate=token.allows(Grant.DELEGATE),
                   client=client)

    def may_exhibit(self, profile_id: str, team: frozenset[str] = frozenset()) -> None:
        """Raise ``NotAllowed`` unless the caller may act for exhibitor ``profile_id``: the
        organiser, or an ``exhibit`` token whose identity is the exhibitor or one of ``team``."""
        if self.organiser:
            return
        if not self.exhibits:
            raise NotAllowed("not_exhibitor", "this needs an exhibitor token from the organiser")
        if self.identity != profile_id and self.identity not in team:
            raise NotAllowed("not_your_exhibitor", "you do not act for that exhibitor")

    def may_request(self) -> None:
        """Raise ``NotAllowed('not_delegate')`` unless the caller may request meetings."""
        if not (self.organiser or self.delegate):
            raise NotAllowed("not_delegate", "requesting meetings needs a delegate token from "
                             "the organiser")
