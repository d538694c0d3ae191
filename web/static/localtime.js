// Shows every <time data-local datetime="..."> in the visitor's own time zone and language.
// The server renders UTC (it cannot know the visitor's zone); this only formats on the client.
const lang = document.documentElement.lang || "en";
const format = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
for (const el of document.querySelectorAll("time[data-local]")) {
  const when = new Date(el.getAttribute("datetime"));
  if (!Number.isNaN(when.getTime())) {
    el.textContent = format.format(when);
    el.title = when.toISOString();
  }
}
