"""Open questions are bounded per room, and a join ack carries only the top N (issue 11):
``max_open_questions`` -> ``questions_full``; ``snapshot_questions`` -> most votes, then newest."""

from __future__ import annotations

from typing import Any

import aiohttp

from rooms.room import RoomKind
from tests.signaling.rtc_client import HOST, VIEWER, RtcClient, make_room, token

LIMITS = {"max_open_questions": 4, "snapshot_questions": 2, "chat_burst": 100,
          "chat_per_second": 100.0}


async def test_open_questions_are_capped_until_one_is_answered(pavilion_app: Any) -> None:
    app = await pavilion_app(demo=False, signaling=LIMITS)
    await make_room(app, "talk", RoomKind.FORUM)
    mod_token = token("mod", "talk", HOST)
    mod = await RtcClient.connect(app, mod_token)
    fan = await RtcClient.connect(app, token("fan", "talk", VIEWER))
    await mod.ok("join", {"room": "talk"})
    await fan.ok("join", {"room": "talk"})
    ids = [(await fan.ok("question.ask", {"room": "talk", "text": f"Question {n}?"}))
           ["question"]["id"] for n in range(4)]
    full = await fan.call("question.ask", {"room": "talk", "text": "One more?"})
    assert full["ok"] is False and full["error"]["code"] == "questions_full", full
    await mod.ok("question.vote", {"room": "talk", "question": ids[1]})
    state = await mod.ok("join", {"room": "talk"})
    assert [q["id"] for q in state["questions"]] == [ids[1], ids[3]], "top 2: votes, newest"
    url = f"{app.url}/api/pages/rooms/talk/questions/{ids[1]}/answered"
    async with aiohttp.ClientSession() as http, http.post(
            url, headers={"Authorization": f"Bearer {mod_token}"}) as response:
        assert response.status == 200, await response.text()
    await fan.ok("question.ask", {"room": "talk", "text": "Now there is room?"})
    state = await mod.ok("join", {"room": "talk"})
    assert len(state["questions"]) == 2 and ids[1] not in [q["id"] for q in state["questions"]]
    for client in (mod, fan):
        await client.close()
