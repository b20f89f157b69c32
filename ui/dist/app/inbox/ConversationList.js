// ConversationList: the current queue's conversations, or a search's
// hits across every queue the user may see, each with where it lives.
import { html } from "../core/html.js";
import { useStore, setState } from "../core/store.js";
import { t } from "../core/i18n.js";
import { when, elapsed, minutesSince, stamp, handle } from "../core/format.js";
import { userName } from "../core/session.js";
import { loadList, selectConversation, setSearch, pick, assignPicked, whereOf } from "./inbox.js";
import { ChannelIcon, Icon } from "../components/Icons.js";
import { failureText } from "./conversation.js";

export function ConversationList() {
  const list = useStore((s) => s.list);
  const route = useStore((s) => s.route);
  useStore((s) => s.now);
  useStore((s) => s.users);
  const myId = useStore((s) => s.me.user.id);
  const overdueMin = useStore((s) => (s.me.overdue_after_s || 1800) / 60);
  const canBulk = useStore((s) => s.me.user.role !== "manager");
  const picked = useStore((s) => s.picked);
  return html`<section class="list" aria-label=${t("list.label")}>
    <div class="list-head">
      <h2>${list.q.trim() ? t("list.searchAll") : t("queue." + route.queue)}</h2>
      <input
        id="search"
        type="search"
        placeholder=${t("list.search")}
        aria-label=${t("list.search")}
        value=${list.q}
        onInput=${(e) => setSearch(e.target.value)}
      />
      ${canBulk && Object.keys(picked).length > 0 && html`<${Bulk} n=${Object.keys(picked).length} />`}
    </div>
    ${list.error && html`<p class="error pad" role="alert">${list.error}</p>`}
    <ul id="conversations" class="conv-list">
      ${list.items.map((c) => html`<${Item} key=${c.id} c=${c} overdueMin=${overdueMin} queue=${route.queue} on=${c.id === route.convId} myId=${myId} bulk=${canBulk} picked=${!!picked[c.id]} search=${!!list.q.trim()} />`)}
    </ul>
    ${!list.loading && !list.error && list.items.length === 0 && html`<p class="empty" id="list-empty">${list.q ? t("list.noMatch") : t("list.empty." + route.queue)}</p>`}
    ${list.loading && list.items.length === 0 && html`<p class="empty">${t("common.loading")}</p>`}
    ${list.next && html`<button type="button" class="ghost more" disabled=${list.loading} onClick=${() => loadList({ more: true })}>${t("list.more")}</button>`}
  </section>`;
}

// Bulk: what a lead does with the picked conversations.
function Bulk({ n }) {
  const users = useStore((s) => s.users);
  return html`<div class="bulk" id="bulk">
    <b>${t("bulk.picked", { n })}</b>
    <select
      id="bulk-assign"
      aria-label=${t("bulk.assign")}
      onChange=${(e) => {
        const v = e.target.value;
        if (v !== "-") assignPicked(v === "" ? null : Number(v));
      }}
    >
      <option value="-">${t("bulk.assign")}</option>
      <option value="">${t("conv.noAssignee")}</option>
      ${users.filter((u) => u.active).map((u) => html`<option value=${u.id}>${u.name || u.email}</option>`)}
    </select>
    <button type="button" class="link small" onClick=${() => setState({ picked: {} })}>${t("common.cancel")}</button>
  </div>`;
}

// Where: the queue a search's hit lives in.
function Where({ c, myId }) {
  const w = whereOf(c, myId);
  return html`<span class=${"where " + w} data-where=${w}>${t("where." + w, { name: userName(c.assignee_id) })}</span>`;
}

function Item({ c, overdueMin, queue, on, myId, bulk, picked, search }) {
  const overdue = c.waiting_since && c.status === "open" && minutesSince(c.waiting_since) > overdueMin;
  return html`<li class=${bulk ? "with-pick" : ""}>
    ${bulk && html`<input type="checkbox" class="pick" aria-label=${t("bulk.pick")} checked=${picked} onChange=${(e) => pick(c.id, e.target.checked)} />`}
    <a
      href=${`/inbox/${queue}/${c.id}`}
      data-conv=${c.id}
      class=${"conv-item" + (on ? " on" : "") + (c.failed_reply ? " has-failed" : "") + (overdue ? " overdue" : "") + (c.status === "closed" ? " closed" : "")}
      aria-current=${on ? "true" : undefined}
      onClick=${(e) => {
        e.preventDefault();
        selectConversation(c.id);
      }}
    >
      <span class="ci-top">
        <${ChannelIcon} channel=${c.channel} />
        <b class="ci-name">${c.contact_name || handle(c.contact_handle) || t("common.noName")}</b>
        <time title=${stamp(c.last_touch_at)}>${when(c.last_touch_at)}</time>
      </span>
      <span class="ci-preview">${c.failed_reply && html`<${Icon} name="alert" size=${12} /> `}${c.channel === "phone" && c.last_text === "call" ? t("list.call") : c.last_text || c.subject || "—"}</span>
      <span class="ci-meta">
        ${search && html`<${Where} c=${c} myId=${myId} />`}
        ${c.failed_reply && html`<span class="flag failed" data-failed=${c.failed_reply.touch_id} title=${failureText(c.failed_reply)}>${t("list.failed")}</span>`}
        ${c.waiting_since && c.status === "open" && html`<span class=${"waiting" + (overdue ? " late" : "")} title=${t("list.waitingSince", { at: stamp(c.waiting_since) })}><${Icon} name="clock" size=${12} /> ${elapsed(c.waiting_since, t)}</span>`}
        ${c.missed_call_at && c.status === "open" && html`<span class="flag callback" title=${t("list.missedCallTitle", { at: stamp(c.missed_call_at) })}><${ChannelIcon} channel="phone" size=${11} /> ${t("list.missedCall", { ago: elapsed(c.missed_call_at, t) })}</span>`}
        ${c.status === "snoozed" && c.snoozed_until && html`<span class="snoozed"><${Icon} name="snooze" size=${12} /> ${t("list.snoozedUntil", { at: stamp(c.snoozed_until) })}</span>`}
        ${c.unlinked > 0 && html`<span class="flag unlinked" title=${t("list.unlinkedTitle", { n: c.unlinked })}>${t("list.unlinked")}${c.unlinked > 1 ? ` · ${c.unlinked}` : ""}</span>`}
        <span class=${"assignee" + (c.assignee_id ? "" : " none")}>${c.assignee_id ? (c.assignee_id === myId ? t("list.me") : userName(c.assignee_id)) : t("list.unassigned")}</span>
      </span>
    </a>
  </li>`;
}
