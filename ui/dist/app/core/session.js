// Session actions: start-up, login, logout, language, and the reference
// data every screen uses (users, accounts, pipeline).
import { get, post, setCSRF, onSessionLost } from "./api.js";
import { getState, setState, resetState, toast } from "./store.js";
import { detectLang, saveLang, t } from "./i18n.js";
import { parse } from "./router.js";
import { applyRoute, refreshCounts } from "../inbox/inbox.js";
import { startLive, stopLive } from "./live.js";
import { loadReminders } from "../inbox/reminders.js";

export async function boot() {
  setState({ lang: detectLang() });
  onSessionLost(() => {
    if (!getState().me) return;
    leave();
    toast("error", t("login.expired"));
  });
  window.addEventListener("popstate", () => {
    if (getState().me) applyRoute(parse(location.pathname));
  });
  try {
    await enter(await get("/api/v1/me"));
  } catch {
    setState({ booting: false });
  }
}

async function enter(me) {
  setCSRF(me.csrf_token);
  setState({ me, booting: false });
  loadRefs();
  applyRoute(parse(location.pathname), { replace: true });
  startLive();
  refreshCounts();
  loadReminders();
}

export async function login(email, password) {
  await enter(await post("/api/v1/login", { email, password }));
}

export async function logout() {
  try {
    await post("/api/v1/logout");
  } catch {
    // the session is gone either way
  }
  leave();
}

function leave() {
  stopLive();
  setCSRF("");
  resetState({ booting: false, lang: getState().lang });
  history.pushState(null, "", "/");
}

export function setLang(lang) {
  saveLang(lang);
  setState({ lang });
}

// mergeStates takes the fetched account states, except where an
// account.state event (it carries rev) arrived for the same phase change or
// a later one while the request was on its way: that one is newer.
function mergeStates(old, fresh) {
  const out = { ...fresh };
  for (const [id, s] of Object.entries(old || {})) {
    const f = fresh[id];
    if (s.rev && (!f || Date.parse(s.since) >= Date.parse(f.since))) out[id] = s;
  }
  return out;
}

// loadRefs loads users, accounts, the pipeline and account states.
export async function loadRefs() {
  try {
    const [u, a, p, st] = await Promise.all([
      get("/api/v1/users"),
      get("/api/v1/accounts"),
      get("/api/v1/pipeline"),
      get("/api/v1/accounts/states"),
    ]);
    setState((s) => ({ users: u.users, accounts: a.accounts, stages: p.stages, accountStates: mergeStates(s.accountStates, st.states || {}), refsLoaded: true }));
  } catch (e) {
    toast("error", e.message);
  }
}

export function userName(id) {
  if (id == null) return "";
  const u = getState().users.find((x) => x.id === id);
  return u ? u.name || u.email : `#${id}`;
}
