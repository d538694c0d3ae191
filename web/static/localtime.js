// Shows every <time data-local datetime="..."> in the visitor's own time zone and language, with
// the zone's label ("(UTC+9)") and the language's date rules, Mongolian included (zonetime.js).
// The server renders UTC (it cannot know the visitor's zone); this only formats on the client.
import { formatInstant } from "./zonetime.js";

const lang = document.documentElement.lang || "en";
for (const el of document.querySelectorAll("time[data-local]")) {
  const when = new Date(el.getAttribute("datetime"));
  if (!Number.isNaN(when.getTime())) {
    el.textContent = formatInstant(when, lang, undefined);
    el.title = when.toISOString();
  }
}
