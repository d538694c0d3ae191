// Keeps the lobby's live cards true without a reload. The server words each count in the page's
// language with its plural rules (GET /api/pages/live?lang=..) and names the rooms that ended:
// such a card loses its "Live" badge and its count (nobody watches an ended room) and says
// "Ended" instead.
const REFRESH_MS = 5000;
const lang = document.documentElement.lang || "en";

function showEnded(card, text) {
  card.querySelector(".viewers")?.remove();
  const dot = card.querySelector(".live-dot");
  if (!dot) return;
  const badge = document.createElement("span");
  badge.className = "ended-badge";
  badge.textContent = text;
  dot.replaceWith(badge);
}

async function refresh() {
  try {
    const response = await fetch(`/api/pages/live?lang=${lang}`, { cache: "no-store" });
    const { rooms, ended } = await response.json();
    for (const [room, live] of Object.entries(rooms ?? {})) {
      const el = document.querySelector(`.card[data-room="${CSS.escape(room)}"] .viewers`);
      if (el) el.textContent = live.text;
    }
    for (const [room, info] of Object.entries(ended ?? {})) {
      const card = document.querySelector(`.card[data-room="${CSS.escape(room)}"]`);
      if (card) showEnded(card, info.text);
    }
  } catch {
    // the cards stay as they are until the next try
  }
}
setInterval(refresh, REFRESH_MS);
