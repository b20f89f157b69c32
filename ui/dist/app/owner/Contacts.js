// Contacts: every contact of the company with its responsible manager,
// searched and filtered, newest first, a page at a time; the responsible
// manager is changed here, and the whole base is exported as CSV (each
// export is audited).
import { useRef, useState } from "preact/hooks";
import { html } from "../core/html.js";
import { get, patch, qs } from "../core/api.js";
import { t } from "../core/i18n.js";
import { stamp } from "../core/format.js";
import { userName } from "../core/session.js";
import { useStore, toast } from "../core/store.js";
import { useLoad } from "./useLoad.js";
import { ChannelIcon } from "../components/Icons.js";
import { Handle } from "../components/Handle.js";
import { go } from "../inbox/inbox.js";

const PAGE = 50;

// openLatest opens the contact's latest conversation in the inbox.
async function openLatest(contactID) {
  try {
    const r = await get("/api/v1/conversations" + qs({ filter: "all", contact_id: contactID, limit: 1 }));
    if (!r.conversations || !r.conversations.length) {
      toast("error", t("contacts.noConversation"));
      return;
    }
    go({ page: "inbox", queue: "all", convId: r.conversations[0].id });
  } catch (e) {
    toast("error", e.message);
  }
}

export function Contacts() {
  const users = useStore((s) => s.users);
  const [q, setQ] = useState("");
  const [resp, setResp] = useState("");
  const [older, setOlder] = useState([]);
  const [more, setMore] = useState(false);
  const [changed, setChanged] = useState({}); // contact id -> responsible id saved here
  const { data, error, loading } = useLoad(async () => {
    setOlder([]);
    setChanged({});
    const r = await get("/api/v1/contacts" + qs({ q, responsible_id: resp, limit: PAGE }));
    setMore(r.contacts.length === PAGE);
    return r.contacts;
  }, [q, resp]);
  const rows = [...(data || []), ...older];
  const loadOlder = async () => {
    try {
      const r = await get("/api/v1/contacts" + qs({ q, responsible_id: resp, limit: PAGE, before_id: rows[rows.length - 1].id }));
      setOlder([...older, ...r.contacts]);
      setMore(r.contacts.length === PAGE);
    } catch (e) {
      toast("error", e.message);
    }
  };
  const assign = async (c, value) => {
    try {
      await patch(`/api/v1/contacts/${c.id}`, { responsible_id: value === "" ? 0 : Number(value) });
      setChanged({ ...changed, [c.id]: value === "" ? null : Number(value) });
      toast("ok", t("contact.saved"));
    } catch (e) {
      toast("error", e.message);
    }
  };
  const timer = useRef(0);
  const search = (e) => {
    clearTimeout(timer.current);
    const v = e.target.value.trim();
    timer.current = setTimeout(() => setQ(v), 250);
  };
  return html`<section class="page">
    <div class="page-head">
      <h1>${t("nav.contacts")}</h1>
      <a class="button" id="export-csv" href="/api/v1/contacts/export.csv" download>${t("contacts.export")}</a>
    </div>
    <p class="muted">${t("contacts.lead")}</p>
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <input type="search" id="contacts-search" aria-label=${t("contacts.search")} placeholder=${t("contacts.search")} onInput=${search} />
      <select id="contacts-responsible" aria-label=${t("panel.responsible")} value=${resp} onChange=${(e) => setResp(e.target.value)}>
        <option value="">${t("contacts.anyResponsible")}</option>
        <option value="none">${t("contacts.noResponsible")}</option>
        ${users.map((u) => html`<option value=${u.id}>${userName(u.id)}</option>`)}
      </select>
    </form>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <div class="table-wrap">
      <table class="table" id="contacts-table">
        <thead><tr><th>${t("contact.name")}</th><th>${t("contacts.handles")}</th><th>${t("panel.responsible")}</th><th>${t("panel.since")}</th></tr></thead>
        <tbody>
          ${rows.map((c) => {
            const r = c.id in changed ? changed[c.id] : c.responsible_id;
            return html`<tr data-contact=${c.id}>
              <td>
                <button type="button" class="link contact-open" data-open-contact=${c.id} title=${t("contacts.open")} onClick=${() => openLatest(c.id)}>
                  <b>${c.name || html`<span class="muted">${t("common.noName")}</span>`}</b>
                </button>
                ${c.company && html`<div class="muted small">${c.company}</div>`}
              </td>
              <td class="handles-cell">${(c.identities || []).map((i) => html`<div class="nowrap"><${ChannelIcon} channel=${i.kind} size=${13} /> <${Handle} identity=${i} /></div>`)}</td>
              <td>
                <select aria-label=${t("panel.responsible")} class=${r == null ? "unbound" : ""} value=${r ?? ""} onChange=${(e) => assign(c, e.target.value)}>
                  <option value="">${t("panel.nobody")}</option>
                  ${users.filter((u) => u.active || u.id === r).map((u) => html`<option value=${u.id}>${userName(u.id)}</option>`)}
                </select>
              </td>
              <td class="nowrap muted">${stamp(c.created_at)}</td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>
    ${!loading && rows.length === 0 && html`<p class="empty">${t("contacts.empty")}</p>`}
    ${more && rows.length > 0 && html`<button type="button" class="ghost more" id="contacts-more" onClick=${loadOlder}>${t("list.more")}</button>`}
  </section>`;
}
