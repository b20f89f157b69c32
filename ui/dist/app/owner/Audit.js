// Audit: the append-only trail, newest first, said in words (who did
// what to which object, with names and money), filtered by who, action,
// object and period; the raw data one click away; older pages by
// before_id.
import { useState } from "preact/hooks";
import { html } from "../core/html.js";
import { get, qs } from "../core/api.js";
import { t } from "../core/i18n.js";
import { stamp } from "../core/format.js";
import { userName } from "../core/session.js";
import { useStore, toast } from "../core/store.js";
import { useLoad } from "./useLoad.js";
import { describe } from "./auditWords.js";
import { go } from "../inbox/inbox.js";

const ACTIONS = [
  "deal.open", "deal.stage", "deal.won", "deal.lost", "deal.edit", "touch.link", "touch.not_a_sale", "touch.retry", "conversation.assign",
  "contact.responsible", "contact.identity", "contact.merge", "contact.unmerge", "contact.not_duplicate", "contact.not_client", "contact.export",
  "report.export", "user.create", "user.edit", "user.password", "account.create", "account.edit", "account.unlink",
  "ad_source.create", "ad_source.update", "spend.add", "spend.import", "entry_point.create", "entry_point.bind", "entry_point.edit", "pipeline.set",
];
const OBJECTS = ["contact", "deal", "touch", "conversation", "user", "account", "entry_point", "ad_source"];
const PAGE = 100;
const EMPTY = { actor_id: "", action: "", object_type: "", object_id: "", from: "", to: "" };

// openContact opens a contact's latest conversation.
async function openContact(id) {
  try {
    const r = await get("/api/v1/conversations" + qs({ filter: "all", contact_id: id, limit: 1 }));
    if (r.conversations?.length) go({ page: "inbox", queue: "all", convId: r.conversations[0].id });
    else toast("error", t("contacts.noConversation"));
  } catch (e) {
    toast("error", e.message);
  }
}

// Target is the object an entry is about, as a link where there is a page.
function Target({ e, page, only }) {
  const key = `${e.object_type}:${e.object_id}`;
  const conv = page.conversations[key];
  const label = `${t("object." + e.object_type, {}, e.object_type)} №${e.object_id}`;
  const nav = (fn) => (ev) => (ev.preventDefault(), fn());
  if (!e.object_id) return html`<span class="muted">${t("object." + e.object_type, {}, e.object_type)}</span>`;
  let link = null;
  if (e.object_type === "deal" && page.names[key] !== undefined) link = html`<a href=${"/deals/" + e.object_id} onClick=${nav(() => go({ page: "deals", dealId: e.object_id }))}>${label}</a>`;
  else if (conv) link = html`<a href=${"/inbox/all/" + conv} onClick=${nav(() => go({ page: "inbox", queue: "all", convId: conv }))}>${label}</a>`;
  else if (e.object_type === "contact" && page.names[key] !== undefined) link = html`<a href="#" onClick=${nav(() => openContact(e.object_id))}>${label}</a>`;
  return html`${link || label} <button type="button" class="link small only-this" title=${t("audit.onlyThis")} onClick=${only}>⌕</button>`;
}

export function Audit() {
  const users = useStore((s) => s.users);
  useStore((s) => s.lang);
  const [filter, setFilter] = useState(EMPTY);
  const [older, setOlder] = useState({ entries: [], names: {}, conversations: {} });
  const [more, setMore] = useState(true);
  const { data, error, loading } = useLoad(async () => {
    setOlder({ entries: [], names: {}, conversations: {} });
    const r = await get("/api/v1/audit" + qs({ ...filter, limit: PAGE }));
    setMore(r.entries.length === PAGE);
    return r;
  }, [JSON.stringify(filter)]);
  const page = {
    entries: [...(data?.entries || []), ...older.entries],
    names: { ...(data?.names || {}), ...older.names },
    conversations: { ...(data?.conversations || {}), ...older.conversations },
  };
  const rows = page.entries;
  const loadOlder = async () => {
    try {
      const r = await get("/api/v1/audit" + qs({ ...filter, limit: PAGE, before_id: rows[rows.length - 1].id }));
      setOlder({ entries: [...older.entries, ...r.entries], names: { ...older.names, ...r.names }, conversations: { ...older.conversations, ...r.conversations } });
      setMore(r.entries.length === PAGE);
    } catch (e) {
      toast("error", e.message);
    }
  };
  const set = (k) => (e) => setFilter({ ...filter, [k]: e.target.value.trim() });
  return html`<section class="page">
    <h1>${t("nav.audit")}</h1>
    <p class="muted">${t("audit.lead")}</p>
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <select id="audit-actor" aria-label=${t("audit.actor")} value=${filter.actor_id} onChange=${set("actor_id")}>
        <option value="">${t("audit.anyone")}</option>
        ${users.map((u) => html`<option value=${u.id}>${userName(u.id)}</option>`)}
      </select>
      <select id="audit-action" aria-label=${t("audit.action")} value=${filter.action} onChange=${set("action")}>
        <option value="">${t("audit.anyAction")}</option>
        ${ACTIONS.map((a) => html`<option value=${a}>${t("aa." + a, {}, a)}</option>`)}
      </select>
      <select id="audit-object-type" aria-label=${t("audit.objectType")} value=${filter.object_type} onChange=${set("object_type")}>
        <option value="">${t("audit.anyObject")}</option>
        ${OBJECTS.map((o) => html`<option value=${o}>${t("object." + o, {}, o)}</option>`)}
      </select>
      <input id="audit-object-id" aria-label=${t("audit.objectId")} placeholder=${t("audit.objectId")} inputmode="numeric" pattern="[0-9]*" value=${filter.object_id} onChange=${set("object_id")} />
      <label class="small muted">${t("audit.from")} <input type="date" id="audit-from" value=${filter.from} onChange=${set("from")} /></label>
      <label class="small muted">${t("audit.to")} <input type="date" id="audit-to" value=${filter.to} onChange=${set("to")} /></label>
      ${Object.values(filter).some(Boolean) && html`<button type="button" class="link small" onClick=${() => setFilter(EMPTY)}>${t("audit.clear")}</button>`}
    </form>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <div class="table-wrap">
      <table class="table" id="audit-table">
        <thead><tr><th>${t("audit.at")}</th><th>${t("audit.actor")}</th><th>${t("audit.what")}</th><th>${t("audit.object")}</th></tr></thead>
        <tbody>
          ${rows.map(
            (e) => html`<tr data-audit=${e.id} data-action=${e.action}>
              <td class="nowrap">${stamp(e.at)}</td>
              <td class="nowrap actor">${e.actor_id ? userName(e.actor_id) : html`<span class="muted">${t("audit.system")}</span>`}</td>
              <td class="what">${describe(e, page.names)}
                ${e.data && html`<details class="raw"><summary class="small muted">${t("audit.raw")}</summary><code class="small">${e.action} ${JSON.stringify(e.data)}</code></details>`}</td>
              <td class="nowrap"><${Target} e=${e} page=${page} only=${() => setFilter({ ...filter, object_type: e.object_type, object_id: String(e.object_id) })} /></td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
    ${!loading && rows.length === 0 && html`<p class="empty">${t("audit.empty")}</p>`}
    ${more && rows.length > 0 && html`<button type="button" class="ghost more" onClick=${loadOlder}>${t("audit.older")}</button>`}
  </section>`;
}
