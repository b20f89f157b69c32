// The store: one immutable state object, replaced by setState, and a hook
// that re-renders a component when the slice it selects changes. Actions
// (session.js, inbox.js, conversation.js, live.js) are the only writers;
// components read with useStore and call actions.
import { useEffect, useReducer, useRef } from "preact/hooks";

const initial = {
  booting: true, // asking /me whether a session exists
  lang: "en", // "ru" or "en" (i18n.js)
  me: null, // the /me reply: {user, csrf_token, currency, region}
  route: { page: "inbox", queue: "mine", convId: null }, // router.js
  users: [], // everyone, for names and assigning
  accounts: [], // channel accounts, for names and reply channels
  refsLoaded: false, // users, accounts, stages and states have come (session.js loadRefs)
  accountStates: {}, // account id -> live adapter state
  stages: [], // the pipeline, in order
  counts: {}, // queue id -> {n}, and overdue: {n} (of waiting)
  reminders: { items: [], total: 0 }, // reminders.js: the bell
  bellOpen: false,
  list: { key: "", q: "", items: [], next: "", loading: false, error: "" },
  conv: null, // {id, detail, deals, loading, error, gone}
  statuses: {}, // touch id -> {status, error, failure} from touch.status events
  resend: null, // {text, accountId}: a failed reply to send another way (Composer)
  picked: {}, // conversation id -> true: a lead's bulk selection
  live: "offline", // WebSocket: "connecting", "live", "offline"
  toast: null, // {kind: "error"|"ok", text}
  panelOpen: false, // contact panel on narrow screens
  lastMerge: null, // {auditId, survivor, name}: the merge the panel offers to undo
  contactRev: 0, // bumped when a contact.changed names the open contact: the panel re-reads its merge suggestions
  now: Date.now(), // ticks every 30 s so waiting times move
};

let state = initial;
const subscribers = new Set();

export function getState() {
  return state;
}

// setState merges a patch (or the result of patch(state)) into the state.
export function setState(patch) {
  const next = typeof patch === "function" ? patch(state) : patch;
  if (!next) return;
  state = { ...state, ...next };
  for (const fn of [...subscribers]) fn(state);
}

export function resetState(keep) {
  state = { ...initial, ...keep };
  for (const fn of [...subscribers]) fn(state);
}

export function subscribe(fn) {
  subscribers.add(fn);
  return () => subscribers.delete(fn);
}

// useStore returns select(state) and re-renders when it changes (by ===).
// Select slices of the state, not new objects.
export function useStore(select) {
  const [, bump] = useReducer((n) => n + 1, 0);
  const value = select(state);
  const last = useRef(value);
  const sel = useRef(select);
  last.current = value;
  sel.current = select;
  useEffect(() => {
    const check = (s) => {
      if (!Object.is(sel.current(s), last.current)) bump();
    };
    check(state);
    return subscribe(check);
  }, []);
  return value;
}

setInterval(() => setState({ now: Date.now() }), 30000);

let toastTimer;

// toast shows a short message at the bottom of the screen.
export function toast(kind, text) {
  clearTimeout(toastTimer);
  setState({ toast: { kind, text } });
  toastTimer = setTimeout(() => setState({ toast: null }), kind === "error" ? 6000 : 3000);
}
