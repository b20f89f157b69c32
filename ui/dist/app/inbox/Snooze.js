// Snooze: put the conversation aside until a time (an hour, tomorrow at
// 9:00 local time, or a picked moment); it leaves Mine and Waiting and
// comes back by itself, or at once when the client writes.
import { html } from "../core/html.js";
import { useEffect, useState } from "preact/hooks";
import { t } from "../core/i18n.js";
import { stamp } from "../core/format.js";
import { setStatus, snooze } from "./conversation.js";
import { Icon } from "../components/Icons.js";

// localInput formats a Date for <input type="datetime-local">.
function localInput(d) {
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function tomorrowAt9() {
  const d = new Date();
  d.setDate(d.getDate() + 1);
  d.setHours(9, 0, 0, 0);
  return d;
}

export function Snooze({ c }) {
  const [open, setOpen] = useState(false);
  const [at, setAt] = useState(() => localInput(tomorrowAt9()));
  const [bad, setBad] = useState(false);
  useEffect(() => {
    if (!open) return;
    const away = (e) => !e.target.closest(".snooze-wrap") && setOpen(false);
    document.addEventListener("mousedown", away);
    return () => document.removeEventListener("mousedown", away);
  }, [open]);
  if (c.status === "snoozed") {
    return html`<span class="snoozed-note" id="snoozed-note"><${Icon} name="snooze" size=${13} /> ${t("conv.snoozedUntil", { at: stamp(c.snoozed_until) })}
      <button type="button" id="wake-conv" class="link small" onClick=${() => setStatus("open")}>${t("conv.wake")}</button></span>`;
  }
  const go = async (until) => {
    setOpen(false);
    await snooze(until);
  };
  const pick = (e) => {
    e.preventDefault();
    const d = new Date(at);
    if (isNaN(d) || d <= new Date()) return setBad(true);
    go(d);
  };
  return html`<div class="snooze-wrap">
    <button type="button" id="snooze-btn" aria-expanded=${open} onClick=${() => (setBad(false), setOpen(!open))} title="s">
      <${Icon} name="snooze" size=${13} /> ${t("conv.snooze")}
    </button>
    ${open &&
    html`<div class="snooze-menu" id="snooze-menu" onKeyDown=${(e) => e.key === "Escape" && setOpen(false)}>
      <button type="button" class="ghost" id="snooze-hour" onClick=${() => go(new Date(Date.now() + 3600e3))}>${t("snooze.hour")}</button>
      <button type="button" class="ghost" id="snooze-tomorrow" onClick=${() => go(tomorrowAt9())}>${t("snooze.tomorrow")}</button>
      <form onSubmit=${pick}>
        <label
          >${t("snooze.pick")}
          <input type="datetime-local" id="snooze-at" value=${at} min=${localInput(new Date())} onInput=${(e) => (setBad(false), setAt(e.target.value))}
        /></label>
        <button type="submit" id="snooze-pick">${t("snooze.go")}</button>
      </form>
      ${bad && html`<p class="error small" role="alert">${t("snooze.bad")}</p>`}
    </div>`}
  </div>`;
}
