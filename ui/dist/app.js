// Minimal inbox shell: sign in and list conversations. Message content is
// only ever set with textContent, never as HTML.
"use strict";
let csrf = "", filter = "mine";
const $ = (s) => document.querySelector(s);

async function api(method, path, body) {
  const opt = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) { opt.headers["Content-Type"] = "application/json"; opt.body = JSON.stringify(body); }
  if (method !== "GET") opt.headers["X-CSRF-Token"] = csrf;
  const r = await fetch(path, opt);
  const data = r.status === 204 ? {} : await r.json();
  if (!r.ok) throw new Error((data.error && data.error.message) || r.statusText);
  return data;
}

function show(loggedIn, me) {
  $("#login").hidden = loggedIn;
  $("#inbox").hidden = !loggedIn;
  $("#logout").hidden = !loggedIn;
  $("#who").textContent = loggedIn ? `${me.user.name || me.user.email} (${me.user.role})` : "";
  if (loggedIn) load();
}

async function load() {
  document.querySelectorAll("nav button").forEach((b) => b.classList.toggle("active", b.dataset.filter === filter));
  const q = encodeURIComponent($("#q").value);
  const data = await api("GET", `/api/v1/conversations?filter=${filter}&q=${q}`);
  const list = $("#list");
  list.replaceChildren();
  for (const c of data.conversations) {
    const li = document.createElement("li");
    const ch = document.createElement("span"); ch.className = "channel"; ch.textContent = c.channel;
    const main = document.createElement("span");
    const name = document.createElement("b"); name.textContent = c.contact_name || "—";
    main.append(name, " ", c.last_text);
    const when = document.createElement("time"); when.textContent = new Date(c.last_touch_at).toLocaleString();
    if (c.unlinked > 0) { const f = document.createElement("span"); f.className = "flag"; f.textContent = " без сделки / unlinked"; main.append(f); }
    li.append(ch, main, when);
    list.append(li);
  }
  $("#empty").hidden = data.conversations.length > 0;
}

$("#login").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  try {
    const me = await api("POST", "/api/v1/login", { email: f.get("email"), password: f.get("password") });
    csrf = me.csrf_token; $("#login-error").textContent = ""; show(true, me);
  } catch (err) { $("#login-error").textContent = err.message; }
});
$("#logout").addEventListener("click", async () => { await api("POST", "/api/v1/logout"); show(false); });
document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => { filter = b.dataset.filter; load(); }));
$("#q").addEventListener("input", () => load());

api("GET", "/api/v1/me").then((me) => { csrf = me.csrf_token; show(true, me); }).catch(() => show(false));
