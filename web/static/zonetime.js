// Times as people read them, in the browser: the visitor's zone, the zone's label, each
// language's date rules. Chromium's ICU has no Mongolian data (Intl falls back to English), so
// Mongolian gets CLDR's own pattern here ("2026 оны 12-р сарын 2 17:37"), like Babel's on the
// server (web/zones.py).

/** Whether this browser's Intl really knows `lang` (not a silent fallback to English). */
export function intlKnows(lang) {
  return Intl.DateTimeFormat.supportedLocalesOf([lang]).length > 0;
}

/** `UTC+9`, `UTC-3:30`, `UTC` for `date` in `timeZone` (the browser's own when undefined). */
export function zoneOffsetLabel(date, timeZone) {
  const parts = new Intl.DateTimeFormat("en", { timeZone, timeZoneName: "longOffset" })
    .formatToParts(date);
  const name = parts.find((p) => p.type === "timeZoneName")?.value ?? "GMT";
  return name === "GMT" ? "UTC" : name.replace("GMT", "UTC").replace(/([+-])0?(\d+):00$/, "$1$2")
    .replace(/([+-])0?(\d+):(\d\d)$/, "$1$2:$3");
}

function parts(date, timeZone) {
  const fields = {};
  const format = new Intl.DateTimeFormat("en-US", { timeZone, year: "numeric", month: "numeric",
    day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  for (const p of format.formatToParts(date)) fields[p.type] = p.value;
  return fields;
}

/** The date, time and zone label of `date` in `timeZone`, by `lang`'s rules. */
export function formatInstant(date, lang, timeZone) {
  const label = zoneOffsetLabel(date, timeZone);
  if (lang === "mn" && !intlKnows("mn")) {
    const f = parts(date, timeZone);
    return `${f.year} оны ${f.month}-р сарын ${f.day} ${f.hour}:${f.minute} (${label})`;
  }
  const text = new Intl.DateTimeFormat(lang, { timeZone, dateStyle: "medium", timeStyle: "short",
    hourCycle: "h23" }).format(date);
  return `${text} (${label})`;
}

/** `2 h 10 min` from the page's words (`wait_hours_minutes`, `wait_minutes`), rounded up. */
export function formatWait(ms, t) {
  const minutes = Math.max(1, Math.ceil(ms / 60000));
  const hours = Math.floor(minutes / 60);
  return hours ? t("wait_hours_minutes", { hours, minutes: minutes % 60 })
    : t("wait_minutes", { minutes });
}
