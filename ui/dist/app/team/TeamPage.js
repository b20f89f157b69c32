// TeamPage: the lead's view of the team. Per manager, what waits on them
// now (open conversations, waiting, overdue, touches with no deal), how
// fast they answered today or in the last 7 days (first response and
// every reply: median and 90th percentile) and the deals they won. Each
// count opens the conversations behind it.
import { useState } from "preact/hooks";
import { html } from "../core/html.js";
import { get, qs } from "../core/api.js";
import { t } from "../core/i18n.js";
import { money, when } from "../core/format.js";
import { userName } from "../core/session.js";
import { useStore } from "../core/store.js";
import { useLoad } from "../owner/useLoad.js";
import { go } from "../inbox/inbox.js";

const LOAD = ["open", "waiting", "overdue", "unlinked"];

// dur is a duration in seconds as "12 мин", "1 ч 05 мин" or "5 д 21 ч".
function dur(s) {
  if (s == null) return "—";
  if (s < 3600) return t("time.min", { n: Math.max(1, Math.round(s / 60)) });
  if (s >= 86400) return t("team.dh", { d: Math.floor(s / 86400), h: Math.round((s % 86400) / 3600) });
  const h = Math.floor(s / 3600);
  return t("team.hm", { h, m: String(Math.round((s % 3600) / 60)).padStart(2, "0") });
}

function Times({ x }) {
  if (!x || !x.n) return html`<span class="muted">—</span>`;
  return html`<span title=${t("team.answers", { n: x.n })}>${dur(x.median_s)} <span class="muted">/ ${dur(x.p90_s)}</span></span>`;
}

export function TeamPage() {
  useStore((s) => s.lang);
  const [period, setPeriod] = useState("today");
  const [open, setOpen] = useState(null); // {user, metric}
  const { data, error } = useLoad(() => get("/api/v1/team" + qs({ period })), [period]);
  const name = (id) => (id ? userName(id) : t("team.unassigned"));
  return html`<main class="owner" id="team"><section class="page">
    <div class="page-head">
      <h1>${t("nav.team")}</h1>
      <div class="seg" role="group" aria-label=${t("team.period")}>
        ${["today", "week"].map((p) => html`<button type="button" id=${"team-" + p} class=${period === p ? "on" : ""} onClick=${() => setPeriod(p)}>${t("team." + p)}</button>`)}
      </div>
    </div>
    <p class="muted">${t("team.lead", { min: Math.round((data?.overdue_after_s || 1800) / 60) })}</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${data &&
    html`<div class="table-wrap"><table class="table" id="team-table">
      <thead><tr>
        <th>${t("team.manager")}</th>${LOAD.map((m) => html`<th class="num">${t("team." + m)}</th>`)}
        <th>${t("team.firstResponse")}</th><th>${t("team.reply")}</th><th class="num">${t("team.won")}</th>
      </tr></thead>
      <tbody>
        ${data.rows.map(
          (r) => html`<tr data-user=${r.user_id}>
            <td>${name(r.user_id)}</td>
            ${LOAD.map(
              (m) => html`<td class="num">${r[m] > 0
                ? html`<button type="button" class=${"link count-link " + m + (m === "overdue" ? " late" : "")} data-metric=${m} onClick=${() => setOpen({ user: r.user_id, metric: m })}>${r[m]}</button>`
                : html`<span class="muted">0</span>`}</td>`,
            )}
            <td class="nowrap first-response"><${Times} x=${r.first_response} /></td>
            <td class="nowrap reply"><${Times} x=${r.reply} /></td>
            <td class="num nowrap won">${r.won.length ? r.won.map((w) => html`<div>${w.count} · ${money(w.amount, w.currency)}</div>`) : html`<span class="muted">${r.user_id ? "0" : ""}</span>`}</td>
          </tr>`,
        )}
      </tbody>
    </table></div>
    <p class="muted small">${t("team.timesHint")}</p>`}
    ${open && html`<${Behind} key=${open.user + open.metric} open=${open} name=${name(open.user)} close=${() => setOpen(null)} />`}
  </section></main>`;
}

// Behind lists the conversations behind one figure.
function Behind({ open, name, close }) {
  const { data, error } = useLoad(() => get("/api/v1/team/conversations" + qs({ user_id: open.user || "", metric: open.metric })), []);
  return html`<section class="team-behind" id="team-behind">
    <div class="page-head"><h2>${name}: ${t("team." + open.metric)}</h2><button type="button" class="ghost" onClick=${close}>${t("common.close")}</button></div>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${data &&
    html`<ul class="behind-list">
      ${data.conversations.map(
        (c) => html`<li data-conversation=${c.id}>
          <a href=${"/inbox/all/" + c.id} onClick=${(e) => (e.preventDefault(), go({ page: "inbox", queue: "all", convId: c.id }))}>${c.contact_name || c.contact_handle}</a>
          <span class="muted small"> · ${c.last_text}</span>
          ${c.waiting_since && html`<span class="small waiting"> · ${t("team.waitingSince", { at: when(c.waiting_since) })}</span>`}
        </li>`,
      )}
      ${data.conversations.length === 0 && html`<li class="muted">${t("team.nothing")}</li>`}
    </ul>`}
  </section>`;
}
