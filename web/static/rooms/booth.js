// The interpreter's booth, pure (issue 17 §3, §8): what the console shows and allows, read from
// one `channels` entry (docs/protocol.md: {language, live, muted, booth, listeners}). No DOM.

/** The channel entry for `language` in `channels`, or an empty booth. */
export function channelOf(channels, language) {
  return (channels ?? []).find((c) => c?.language === language)
    ?? { language, live: null, muted: false, booth: [], listeners: 0 };
}

/** "on_air" (live, heard), "muted" (live, coughing), "standby" (in the booth, a partner is
 * live), "off" (not publishing into this channel). */
export function airState(channel, me, publishing) {
  if (channel.live === me) return channel.muted ? "muted" : "on_air";
  return publishing && channel.booth.includes(me) ? "standby" : "off";
}

/** Which controls work now: handover needs a partner to hand to; taking needs our own voice
 * ready in the booth and someone else (or nobody) live; cough only while live. */
export function controls(channel, me, publishing) {
  const live = channel.live === me;
  const partners = channel.booth.filter((who) => who !== me);
  return {
    handover: live && partners.length > 0,
    take: publishing && !live && channel.booth.includes(me),
    cough: live,
  };
}

/** Hold-to-mute (Space or M, as booth consoles): a key press that is not typing. */
export function isMuteKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return false;
  const target = event.target;
  const typing = target && (target.isContentEditable
    || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  if (typing) return false;
  return event.code === "Space" || event.code === "KeyM";
}
