// Reminders: the unlinked touches the user was reminded of (touch.reminder
// events) that still have no deal, for the bell in the top bar. The list
// comes from /api/v1/reminders, so it survives reloads and reconnects; an
// event only says when to ask again.
import { get } from "../core/api.js";
import { getState, setState, toast } from "../core/store.js";
import { t } from "../core/i18n.js";
import { elapsed, handle } from "../core/format.js";

let seq = 0;

export async function loadReminders() {
  if (!getState().me) return null;
  const my = ++seq;
  try {
    const r = await get("/api/v1/reminders");
    if (my !== seq) return null;
    setState({ reminders: { items: r.reminders, total: r.total } });
    return r.reminders;
  } catch {
    return null; // the bell keeps what it had; the next event asks again
  }
}

// reminded handles a touch.reminder event: the server sends a lead every
// reminder, so only one that lands in this user's own list is announced.
export async function reminded(ev) {
  const items = await loadReminders();
  const r = items && items.find((x) => x.touch_id === ev.touch_id);
  if (r) toast("ok", t("bell.toast", { name: reminderName(r), ago: elapsed(r.occurred_at, t) }));
}

export function reminderName(r) {
  return r.contact_name || handle(r.handle) || t("common.noName");
}

export function toggleBell(open) {
  setState((s) => ({ bellOpen: open === undefined ? !s.bellOpen : open }));
}
