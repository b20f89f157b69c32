// live keeps one WebSocket to /api/v1/ws open while logged in. Every event
// carries an increasing id; after a drop it reconnects with backoff and
// ?since=<last id>, and the server replays what was missed, so no event is
// lost. Events go to the handler set by onEvent (events.js).
import { get } from "./api.js";
import { setState } from "./store.js";

let ws = null;
let lastId = 0;
let attempt = 0;
let timer = null;
let running = false;
let connectedOnce = false;
let handler = () => {};

export function onEvent(fn) {
  handler = fn;
}

export function startLive() {
  running = true;
  lastId = 0;
  connectedOnce = false;
  connect();
}

export function stopLive() {
  running = false;
  clearTimeout(timer);
  if (ws) ws.close();
  ws = null;
  setState({ live: "offline" });
}

function connect() {
  clearTimeout(timer);
  if (!running) return;
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${proto}//${location.host}/api/v1/ws` + (lastId ? `?since=${lastId}` : "");
  setState({ live: "connecting" });
  const sock = new WebSocket(url);
  ws = sock;
  sock.onmessage = (m) => {
    let ev;
    try {
      ev = JSON.parse(m.data);
    } catch {
      return;
    }
    if (ev.type === "hello") {
      // reset: the server's newest event is older than ours (its database
      // was restored or replaced): follow from its id; resync reloads.
      lastId = ev.reset ? ev.last_id || 0 : Math.max(lastId, ev.last_id || 0);
      attempt = 0;
      setState({ live: "live" });
      // Refresh on every hello, the first included: the screen was loaded
      // over HTTP before the socket opened, and what happened in between
      // (or, after a drop with no event seen yet, what could not be
      // replayed) must not be lost.
      handler({ type: "resync" });
      connectedOnce = true;
      return;
    }
    if (ev.id) lastId = Math.max(lastId, ev.id);
    handler(ev);
  };
  sock.onclose = () => {
    if (ws !== sock || !running) return;
    ws = null;
    setState({ live: "offline" });
    attempt++;
    // 0.5 s doubling to 30 s, with jitter so a restarted server is not hit at once by everyone
    const delay = Math.min(30000, 500 * 2 ** Math.min(attempt, 6)) * (0.75 + Math.random() / 2);
    timer = setTimeout(connect, delay);
    // a refused upgrade looks like a drop: learn whether the session ended (api.js then logs out)
    if (attempt >= 3) get("/api/v1/me").catch(() => {});
  };
}

// reconnect at once when the tab comes back or the network returns.
function nudge() {
  if (running && !ws) {
    attempt = 0;
    connect();
  }
}
document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && nudge());
window.addEventListener("online", nudge);
