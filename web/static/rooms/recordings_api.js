// The recordings' page API (docs/recordings.md §5): `/api/pages/recordings...`, with the page's
// token as `Authorization: Bearer` when it has one (a published replay needs none).
import { config } from "./i18n.js";

const refusal = (code) => Object.assign(new Error(code), { code });

/** `method` `path` (under /api/pages/recordings) with an optional JSON `body`; the answer's
 * fields, or an Error carrying the refusal's `code` (i18n.js errorText words it). */
export async function recordingsApi(method, path = "", body = undefined, token = config.token) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(`/api/pages/recordings${path}`, {
      method, headers, cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw refusal("network_error");
  }
  let data = {};
  try { data = await response.json(); } catch { data = {}; }
  if (!response.ok || data.ok === false) throw refusal(data.error?.code ?? "internal_error");
  return data;
}

/** The file a recording opens with: the program if any, else the host's (the room's
 * exhibitor's) participant file, else the first. */
export function mainFile(files, host) {
  return files.find((f) => f.kind === "program")
    ?? files.find((f) => f.kind === "participant" && f.participant === host)
    ?? files[0] ?? null;
}
