// Conversation actions: open and reload one conversation with its contact's
// deals; reply; assign; close and reopen; resolve unlinked touches; move
// deals through the pipeline.
import { get, post } from "../core/api.js";
import { getState, setState, toast } from "../core/store.js";
import { t } from "../core/i18n.js";
import { userName } from "../core/session.js";
import { refreshSoon, go } from "./inbox.js";
import { stamp } from "../core/format.js";

let seq = 0;

// openConversation loads a conversation (quiet: keep showing the old copy
// until the new one arrives, for live updates).
export async function openConversation(id, { quiet = false } = {}) {
  const my = ++seq;
  if (!quiet) setState({ conv: { id, loading: true, detail: null, deals: [] }, panelOpen: false });
  try {
    const own = await get(`/api/v1/conversations/${id}`);
    const cid = own.contact.id;
    const [{ deals }, contact] = await Promise.all([get(`/api/v1/deals?contact_id=${cid}&limit=100`), get(`/api/v1/contacts/${cid}`)]);
    const others = (contact.conversations || []).filter((c) => c.id !== id).slice(0, MAX_RELATED);
    const related = await Promise.all(others.map((c) => get(`/api/v1/conversations/${c.id}`).catch(() => null)));
    const detail = merge(own, related.filter(Boolean));
    if (my !== seq) return;
    setState({ conv: { id, detail, deals, loading: false, error: "" } });
  } catch (e) {
    if (my !== seq) return;
    setState((s) => ({
      conv: { ...(s.conv && s.conv.id === id ? s.conv : { id, deals: [] }), loading: false, gone: e.code === "not_found", error: e.message },
    }));
  }
}

// MAX_RELATED bounds how many of the contact's other conversations the
// timeline takes in.
const MAX_RELATED = 10;

// merge makes one timeline of the contact's touches across channels: the
// open conversation's detail plus the touches (and their files, entry
// points and sources) of the contact's other conversations, in time order.
// detail.related lists those conversations, for live updates and links.
function merge(own, related) {
  if (!related.length) return { ...own, sending: own.sending || [], related: [] };
  const uniq = (lists) => [...new Map(lists.flat().map((x) => [x.id, x])).values()];
  const all = [own, ...related];
  const touches = uniq(all.map((d) => d.touches)).sort((a, b) => a.occurred_at.localeCompare(b.occurred_at) || a.id - b.id);
  return {
    ...own,
    touches,
    attachments: uniq(all.map((d) => d.attachments || [])),
    entry_points: uniq(all.map((d) => d.entry_points || [])),
    ad_sources: uniq(all.map((d) => d.ad_sources || [])),
    sending: all.flatMap((d) => d.sending || []),
    related: related.map((d) => d.conversation),
  };
}

export function closeConversation() {
  seq++;
  setState({ conv: null });
}

let reloadTimer;

// reloadSoon reloads the open conversation once for a burst of events, at
// most ms after the first.
export function reloadSoon(ms = 150) {
  if (reloadTimer) return;
  reloadTimer = setTimeout(() => {
    reloadTimer = null;
    const c = getState().conv;
    if (c) openConversation(c.id, { quiet: true });
  }, ms);
}

const convID = () => getState().conv?.id;

// act runs a change, then refreshes what it touched; errors become toasts.
async function act(fn, ok) {
  const id = convID();
  try {
    const r = await fn(id);
    refreshSoon(50);
    if (convID() === id) await openConversation(id, { quiet: true });
    if (ok) toast("ok", ok);
    return r;
  } catch (e) {
    toast("error", e.message);
    return null;
  }
}

// reply sends text (and files) over the conversation's account or another
// of the contact's; the outbound touch shows at once as queued. Errors are
// thrown for the composer to show next to the text it keeps.
export async function reply(body) {
  const id = convID();
  const touch = await post(`/api/v1/conversations/${id}/reply`, body);
  setState((s) => {
    if (!s.conv?.detail || s.conv.id !== id) return null;
    const touches = s.conv.detail.touches.filter((x) => x.id !== touch.id).concat(touch);
    return { conv: { ...s.conv, detail: { ...s.conv.detail, touches } } };
  });
  refreshSoon();
  return touch;
}

// statuses: a reply's delivery status only moves forward.
const RANK = { "": -1, queued: 0, sent: 1, failed: 1, delivered: 2, read: 3 };

// touchStatus records a touch.status event: state.statuses overlays the
// loaded touches, so a reload that raced the event never shows it older.
export function touchStatus(ev) {
  const d = ev.data || {};
  setState((s) => ({ statuses: { ...s.statuses, [ev.touch_id]: { status: d.delivery_status, error: d.error || "", failure: d.failure || "" } } }));
}

// deliveryOf is where a reply stands: the live event if it is newer, else
// what the server said with the timeline (the outbox's attempts, last
// error and next try survive a reload).
export function deliveryOf(touch) {
  const live = getState().statuses?.[touch.id];
  if (live && (RANK[live.status] ?? 0) >= (RANK[touch.delivery_status] ?? -1)) return live;
  const st = (getState().conv?.detail?.sending || []).find((x) => x.touch_id === touch.id);
  if (!st || touch.delivery_status === "sent" || touch.delivery_status === "delivered" || touch.delivery_status === "read") return { status: touch.delivery_status, error: "" };
  return { status: touch.delivery_status, error: st.last_error || "", failure: st.failure || "", attempts: st.attempts, next: st.next_attempt_at || "" };
}

// failureText says why a send failed in the user's language (the kind
// the server read from the channel's error; an unknown one is "other").
export function failureText(d) {
  return t("failure." + (d.failure || "other"), {}, t("failure.other"));
}

// retry sends a failed reply again: the same touch goes back to the
// outbox (its live status starts over from queued).
export function retry(touchId) {
  setState((s) => {
    const statuses = { ...s.statuses };
    delete statuses[touchId];
    return { statuses };
  });
  return act(() => post(`/api/v1/touches/${touchId}/retry`), t("toast.retried"));
}

// sendAnotherWay hands a failed reply's text to the composer, which
// offers another account than the one that failed.
export function sendAnotherWay(touch) {
  setState({ resend: { text: touch.body || "", accountId: touch.account_id, at: Date.now() } });
}

export function assign(userId) {
  const me = getState().me.user;
  return act(async (id) => {
    const c = await post(`/api/v1/conversations/${id}/assign`, { user_id: userId });
    if (me.role === "manager" && userId !== null && userId !== me.id) {
      // handed on: this manager no longer sees it
      const r = getState().route;
      go({ page: "inbox", queue: r.queue, convId: null });
    }
    return c;
  }, userId === null ? t("toast.unassigned") : userId === me.id ? t("toast.taken") : t("toast.assignedTo", { name: userName(userId) }));
}

export function setStatus(status) {
  return act((id) => post(`/api/v1/conversations/${id}/status`, { status }), status === "closed" ? t("toast.closed") : t("toast.reopened"));
}

// snooze puts the conversation aside until a Date.
export function snooze(until) {
  return act((id) => post(`/api/v1/conversations/${id}/status`, { status: "snoozed", until: until.toISOString() }), t("toast.snoozed", { at: stamp(until.toISOString()) }));
}

export function linkTouch(touchId, dealId) {
  return act(() => post(`/api/v1/touches/${touchId}/deal`, { deal_id: dealId }), t("toast.linked"));
}

// newDeal opens a deal from a touch; title "" lets the server make one
// from the touch, amount is in minor units (0: not known yet).
export function newDeal(touchId, title = "", amount = 0) {
  return act(() => post(`/api/v1/touches/${touchId}/new-deal`, { title, amount }), t("toast.dealOpened"));
}

export function notASale(touchId, reason) {
  return act(() => post(`/api/v1/touches/${touchId}/not-a-sale`, { reason }), t("toast.notASale"));
}

export function moveStage(dealId, stageId) {
  return act(() => post(`/api/v1/deals/${dealId}/stage`, { stage_id: stageId }), t("toast.stage"));
}

export function winDeal(dealId, amount) {
  return act(() => post(`/api/v1/deals/${dealId}/won`, { amount }), t("toast.won"));
}

export function loseDeal(dealId, reason) {
  return act(() => post(`/api/v1/deals/${dealId}/lost`, { reason }), t("toast.lost"));
}
