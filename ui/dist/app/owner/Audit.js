// Audit: the append-only trail, newest first, filtered by who did it,
// action and object (a contact, a deal…); older pages by before_id.
import { useState } from "preact/hooks";
import { html } from "../core/html.js";
import { get, qs } from "../core/api.js";
import { t } from "../core/i18n.js";
import { stamp } from "../core/format.js";
import { userName } from "../core/session.js";
import { useStore } from "../core/store.js";
import { useLoad } from "./useLoad.js";

const ACTIONS = [
  "user.create", "user.edit", "user.password", "account.create", "account.edit", "ad_source.create", "spend.add",
  "entry_point.create", "entry_point.bind", "pipeline.set", "contact.create", "contact.identity", "contact.responsible",
  "contact.merge", "contact.unmerge", "contact.not_duplicate", "contact.export", "conversation.assign", "deal.open",
  "deal.edit", "deal.stage", "deal.won", "deal.lost", "touch.link", "touch.not_a_sale", "touch.retry",
];
const OBJECTS = ["contact", "deal", "touch", "conversation", "user", "account", "entry_point", "ad_source"];
const PAGE = 100;

export function Audit() {
  const users = useStore((s) => s.users);
  const [filter, setFilter] = useState({ actor_id: "", action: "", object_type: "", object_id: "" });
  const [older, setOlder] = useState([]);
  const [more, setMore] = useState(true);
  const { data, error, loading } = useLoad(async () => {
    setOlder([]);
    const r = await get("/api/v1/audit" + qs({ ...filter, limit: PAGE }));
    setMore(r.entries.length === PAGE);
    return r.entries;
  }, [filter.actor_id, filter.action, filter.object_type, filter.object_id]);
  const rows = [...(data || []), ...older];
  const loadOlder = async () => {
    const r = await get("/api/v1/audit" + qs({ ...filter, limit: PAGE, before_id: rows[rows.length - 1].id }));
    setOlder([...older, ...r.entries]);
    setMore(r.entries.length === PAGE);
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
        ${ACTIONS.map((a) => html`<option value=${a}>${a}</option>`)}
      </select>
      <select id="audit-object-type" aria-label=${t("audit.objectType")} value=${filter.object_type} onChange=${set("object_type")}>
        <option value="">${t("audit.anyObject")}</option>
        ${OBJECTS.map((o) => html`<option value=${o}>${t("object." + o, {}, o)}</option>`)}
      </select>
      <input id="audit-object-id" aria-label=${t("audit.objectId")} placeholder=${t("audit.objectId")} inputmode="numeric" pattern="[0-9]*" value=${filter.object_id} onChange=${set("object_id")} />
      ${(filter.actor_id || filter.action || filter.object_type || filter.object_id) &&
      html`<button type="button" class="link small" onClick=${() => setFilter({ actor_id: "", action: "", object_type: "", object_id: "" })}>${t("audit.clear")}</button>`}
    </form>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <div class="table-wrap">
      <table class="table" id="audit-table">
        <thead><tr><th>#</th><th>${t("audit.at")}</th><th>${t("audit.actor")}</th><th>${t("audit.action")}</th><th>${t("audit.object")}</th><th>${t("audit.data")}</th></tr></thead>
        <tbody>
          ${rows.map(
            (e) => html`<tr>
              <td class="num">${e.id}</td>
              <td class="nowrap">${stamp(e.at)}</td>
              <td class="nowrap actor">${e.actor_id ? userName(e.actor_id) : html`<span class="muted">${t("audit.system")}</span>`}</td>
              <td><code>${e.action}</code></td>
              <td class="nowrap">
                ${e.object_id
                  ? html`<button type="button" class="link small" title=${t("audit.onlyThis")} onClick=${() => setFilter({ ...filter, object_type: e.object_type, object_id: String(e.object_id) })}>${e.object_type} #${e.object_id}</button>`
                  : e.object_type}
              </td>
              <td class="data"><code>${e.data ? JSON.stringify(e.data) : ""}</code></td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
    ${!loading && rows.length === 0 && html`<p class="empty">${t("audit.empty")}</p>`}
    ${more && rows.length > 0 && html`<button type="button" class="ghost more" onClick=${loadOlder}>${t("audit.older")}</button>`}
  </section>`;
}
