// Inbox actions: the queues, their live counters, the conversation list
// and navigation between them.
import { get, post, qs } from "../core/api.js";
import { getState, setState, toast } from "../core/store.js";
import { t } from "../core/i18n.js";
import { path } from "../core/router.js";
import { openConversation, closeConversation } from "./conversation.js";
import { loadReminders } from "./reminders.js";

// QUEUES are the left column. Each is a /api/v1/conversations query; the
// counters come exact from /api/v1/queues/counts (keys as the ids here).
export const QUEUES = [
  { id: "mine", query: { filter: "mine", status: "open" } },
  { id: "unassigned", query: { filter: "unassigned", status: "open" } },
  { id: "unlinked", query: { filter: "unlinked" }, warn: true },
  { id: "callback", query: { filter: "callback" }, warn: true },
  { id: "waiting", query: { filter: "waiting" }, warn: true },
  { id: "snoozed", query: { filter: "all", status: "snoozed" } },
  { id: "all", query: { filter: "all", status: "open" }, roles: ["lead", "owner"] },
  { id: "closed", query: { filter: "all", status: "closed" } },
];

const URL_LIST = "/api/v1/conversations";

// SEARCH is the query of a search: all the user may see, any status.
const SEARCH = { filter: "all" };

// whereOf says where a conversation of the search's results lives, as the
// queues name it: closed, snoozed, mine, unassigned, or whose it is.
export function whereOf(c, myId) {
  if (c.status === "closed" || c.status === "snoozed") return c.status;
  if (!c.assignee_id) return "unassigned";
  return c.assignee_id === myId ? "mine" : "other";
}

export function queuesFor(role) {
  return QUEUES.filter((q) => !q.roles || q.roles.includes(role));
}

export function queueDef(id) {
  return QUEUES.find((q) => q.id === id) || QUEUES[0];
}

function defaultQueue(role) {
  return role === "manager" ? "mine" : role === "lead" ? "unassigned" : "all";
}

// go navigates to a route: the address bar, then the data it shows.
export function go(route, opts = {}) {
  const url = path(route);
  if (location.pathname !== url) history[opts.replace ? "replaceState" : "pushState"](null, "", url);
  applyRoute(route, opts);
}

// applyRoute makes the state follow a route (after go, a reload or Back).
export function applyRoute(route, opts = {}) {
  const s = getState();
  const role = s.me.user.role;
  if (route.page === "owner" && role !== "owner") route = { page: "inbox", queue: "", convId: null };
  if (route.page === "team" && role === "manager") route = { page: "inbox", queue: "", convId: null };
  if (route.page === "inbox" && !queuesFor(role).some((q) => q.id === route.queue)) {
    route = { ...route, queue: defaultQueue(role) };
    history.replaceState(null, "", path(route));
  }
  const prev = s.route;
  setState({ route });
  if (route.page !== "inbox") return;
  if (prev.page !== "inbox" || prev.queue !== route.queue || !s.list.key || opts.replace) loadList();
  const open = s.conv ? s.conv.id : null;
  if (route.convId !== open) {
    if (route.convId) openConversation(route.convId);
    else closeConversation();
  }
}

export function selectQueue(queue) {
  // Choosing a queue leaves the search, which covers every queue.
  clearTimeout(searchTimer);
  setState((s) => ({ picked: {}, list: { ...s.list, q: "" } }));
  go({ page: "inbox", queue, convId: null });
}

// pick adds a conversation to (or takes it from) a lead's bulk selection.
export function pick(id, on) {
  setState((s) => {
    const picked = { ...s.picked };
    if (on) picked[id] = true;
    else delete picked[id];
    return { picked };
  });
}

// assignPicked assigns every picked conversation to userId (null: the queue).
export async function assignPicked(userId) {
  const ids = Object.keys(getState().picked).map(Number);
  let done = 0;
  const errors = [];
  for (const id of ids) {
    try {
      await post(`/api/v1/conversations/${id}/assign`, { user_id: userId });
      done++;
    } catch (e) {
      errors.push(e.message);
    }
  }
  setState({ picked: {} });
  refreshSoon(0);
  if (errors.length) toast("error", errors[0]);
  else toast("ok", t("bulk.done", { n: done }));
}

export function selectConversation(id) {
  const r = getState().route;
  go({ page: "inbox", queue: r.queue, convId: id });
}

// move selects the next (+1) or previous (-1) conversation of the list.
export function move(step) {
  const { list, route } = getState();
  if (!list.items.length) return;
  const i = list.items.findIndex((c) => c.id === route.convId);
  const j = i < 0 ? 0 : Math.min(list.items.length - 1, Math.max(0, i + step));
  selectConversation(list.items[j].id);
  requestAnimationFrame(() => document.querySelector(`[data-conv="${list.items[j].id}"]`)?.scrollIntoView({ block: "nearest" }));
}

let listSeq = 0;

// loadList loads the current queue's first page (more: the next page;
// quiet: refresh what is shown without a loading state).
export async function loadList({ more = false, quiet = false } = {}) {
  const s = getState();
  if (!s.me || s.route.page !== "inbox") return;
  const def = queueDef(s.route.queue);
  const q = s.list.q;
  const key = def.id + "|" + q;
  const seq = ++listSeq;
  const same = key === s.list.key;
  if (!quiet) setState({ list: { ...s.list, key, loading: true, error: "", ...(same ? {} : { items: [], next: "" }) } });
  try {
    const limit = more ? 50 : Math.min(200, Math.max(50, same ? s.list.items.length : 0));
    // A search covers everything the user may see, not the queue shown:
    // every status, and for a manager their own and the unassigned ones
    // (the server's visibility rule decides).
    const query = q.trim() ? SEARCH : def.query;
    const r = await get(URL_LIST + qs({ ...query, q, limit, cursor: more ? s.list.next : "" }));
    const items = more ? [...s.list.items, ...r.conversations] : r.conversations;
    const next = r.next_cursor;
    // A stale answer (another load started, or the user typed on since
    // this one) is dropped; an answer never writes its query back into
    // the search box, which shows what the user types.
    if (seq !== listSeq || getState().list.q !== q) return;
    setState((st) => ({ list: { ...st.list, key, items, next, loading: false, error: "" } }));
  } catch (e) {
    if (seq !== listSeq) return;
    setState((st) => ({ list: { ...st.list, loading: false, error: e.message } }));
  }
}

let searchTimer;

export function setSearch(q) {
  setState((s) => ({ list: { ...s.list, q } }));
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => loadList(), 250);
}

let countSeq = 0;

// refreshCounts asks the server for the exact size of every queue
// (counts.overdue: how many of Waiting wait longer than the threshold).
export async function refreshCounts() {
  if (!getState().me) return;
  const seq = ++countSeq;
  try {
    const r = await get("/api/v1/queues/counts");
    if (seq !== countSeq) return;
    const counts = {};
    for (const [k, n] of Object.entries(r)) counts[k] = { n };
    setState({ counts });
  } catch {
    // counters stay as they were; the next event refreshes them
  }
}

let refreshTimer;

// refreshSoon refreshes the list and the counters once for a burst of
// events or actions: at most ms after the first of them (a steady stream
// of events must not postpone it forever).
export function refreshSoon(ms = 250) {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    loadList({ quiet: true });
    refreshCounts();
    loadReminders();
  }, ms);
}
