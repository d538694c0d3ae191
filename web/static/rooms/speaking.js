// The active speaker as the server decides it (`speaker.changed`, docs/protocol.md §4): the
// node holding the room's media reads the audio level each publisher writes in its packets
// (RFC 6464) and debounces the choice, so every viewer highlights the same tile at the same
// time, whoever they watch and however loud their own speakers are.
import { t } from "./i18n.js";

export class SpeakerHighlight {
  /** `tiles`: identity -> {tile}, the page's own map; `room`: this page's room id. */
  constructor(conn, room, tiles) {
    this.tiles = tiles;
    this.active = null;
    conn.on("speaker.changed", (e) => {
      if (e.room_id !== room) return;
      this.active = e.participant ?? null;
      this.refresh();
    });
  }

  /** Mark the active speaker's tile (call again when tiles come and go). */
  refresh() {
    for (const [identity, entry] of this.tiles) {
      const on = identity === this.active;
      entry.tile.classList.toggle("speaking", on);
      if (on) entry.tile.setAttribute("aria-label", t("speaking"));
      else entry.tile.removeAttribute("aria-label");
    }
  }
}
