// A meeting link opened early (web/opening.py): show when the room opens in the visitor's own
// zone, count down, and reload the page by itself once the link works.
import { config, t } from "./i18n.js";
import { formatInstant, formatWait } from "../zonetime.js";

const at = document.getElementById("opens-at");
const wait = document.getElementById("opens-in");
const opens = new Date(at.getAttribute("datetime")).getTime();
at.textContent = formatInstant(new Date(opens), config.lang, undefined);
at.title = new Date(opens).toISOString();

function tick() {
  const left = opens - Date.now();
  if (left <= 0) {
    window.location.reload();
    return;
  }
  wait.textContent = formatWait(left, t);
  setTimeout(tick, Math.min(left + 1000, 15000));
}
tick();
