// Keeps the lobby's live viewer counts current without a reload. The server words each count
// in the page's language with its plural rules (GET /api/pages/live?lang=..).
const REFRESH_MS = 15000;
const lang = document.documentElement.lang || "en";

async function refresh() {
  try {
    const response = await fetch(`/api/pages/live?lang=${lang}`, { cache: "no-store" });
    const { rooms } = await response.json();
    for (const [room, live] of Object.entries(rooms ?? {})) {
      const el = document.querySelector(`.card[data-room="${CSS.escape(room)}"] .viewers`);
      if (el) el.textContent = live.text;
    }
  } catch {
    // the counts stay as rendered until the next try
  }
}
setInterval(refresh, REFRESH_MS);
