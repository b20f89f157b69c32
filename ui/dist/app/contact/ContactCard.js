// ContactCard: who the contact is, and the form that edits it: name,
// company, note, the responsible manager (leads and owners), and the
// handles (add one in any format; remove one typed wrong).
import { useState } from "preact/hooks";
import { html } from "../core/html.js";
import { useStore } from "../core/store.js";
import { t } from "../core/i18n.js";
import { handle } from "../core/format.js";
import { userName } from "../core/session.js";
import { saveContact, addIdentity, removeIdentity } from "./contact.js";
import { ChannelIcon } from "../components/Icons.js";
import { DialButton } from "./Dial.js";
import { Handle } from "../components/Handle.js";

const KINDS = ["phone", "email", "telegram", "whatsapp"];
const NOT_CLIENT = ["supplier", "spam", "partner", "personal", "other"];

export function ContactCard({ contact }) {
  const [editing, setEditing] = useState(false);
  const ids = contact.identities || [];
  const title = contact.name || (ids[0] ? handle(ids[0].kind, ids[0].value) : t("common.noName"));
  if (editing) return html`<${EditForm} contact=${contact} done=${() => setEditing(false)} />`;
  return html`<div class="contact-card">
    <div class="contact-title">
      <h3 id="contact-name">${title}</h3>
      <button type="button" class="link small" id="contact-edit" onClick=${() => setEditing(true)}>${t("contact.edit")}</button>
    </div>
    ${contact.company && html`<p class="muted" id="contact-company">${contact.company}</p>`}
    ${(contact.not_client || contact.blocked) &&
    html`<p class="small not-client" id="contact-not-client">
      ${contact.not_client && html`<span class="tag">${t("notClient.is", { why: t("notClient." + contact.not_client) })}</span> `}
      ${contact.blocked && html`<span class="tag blocked">${t("notClient.blocked")}</span> `}
      <button type="button" class="link small" id="contact-is-client" onClick=${() => saveContact(contact.id, { not_client: "", blocked: false })}>${t("notClient.undo")}</button>
    </p>`}
    <ul class="identities">
      ${ids.map(
        (i) => html`<li title=${i.kind}>
          <${ChannelIcon} channel=${i.kind} size=${14} /> <${Handle} identity=${i} />
          ${i.kind === "phone" && html`<${DialButton} contactId=${contact.id} phone=${i.value} ext=${i.ext} />`}
        </li>`,
      )}
    </ul>
  </div>`;
}

function EditForm({ contact, done }) {
  const me = useStore((s) => s.me.user);
  const users = useStore((s) => s.users);
  const [f, setF] = useState({ name: contact.name || "", company: contact.company || "", note: contact.note || "", responsible: contact.responsible_id ?? "", notClient: contact.not_client || "", blocked: !!contact.blocked });
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    const edit = { name: f.name, company: f.company, note: f.note };
    if (me.role !== "manager" && String(f.responsible) !== String(contact.responsible_id ?? "")) edit.responsible_id = f.responsible === "" ? 0 : Number(f.responsible);
    if (f.notClient !== (contact.not_client || "") || f.blocked !== !!contact.blocked) Object.assign(edit, { not_client: f.notClient, blocked: f.blocked });
    setBusy(true);
    try {
      await saveContact(contact.id, edit);
      done();
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="contact-edit" id="contact-form" onSubmit=${submit}>
    <label>${t("contact.name")}<input name="name" value=${f.name} onInput=${set("name")} autofocus /></label>
    <label>${t("contact.company")}<input name="company" value=${f.company} onInput=${set("company")} /></label>
    <label>${t("contact.note")}<textarea name="note" rows="3" value=${f.note} onInput=${set("note")}></textarea></label>
    ${me.role !== "manager" &&
    html`<label>${t("panel.responsible")}
      <select name="responsible" value=${f.responsible} onChange=${set("responsible")}>
        <option value="">${t("panel.nobody")}</option>
        ${users.filter((u) => u.active).map((u) => html`<option value=${u.id}>${userName(u.id)}</option>`)}
      </select></label>`}
    <label>${t("notClient.label")}
      <select name="not_client" id="contact-not-client-select" value=${f.notClient} onChange=${set("notClient")}>
        <option value="">${t("notClient.client")}</option>
        ${NOT_CLIENT.map((r) => html`<option value=${r}>${t("notClient." + r)}</option>`)}
      </select></label>
    <label class="check"><input type="checkbox" name="blocked" id="contact-blocked" checked=${f.blocked} onChange=${(e) => setF({ ...f, blocked: e.target.checked })} /> ${t("notClient.block")}</label>
    <p class="muted small">${t("notClient.hint")}</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <div class="row">
      <button type="submit" class="primary" id="contact-save" disabled=${busy}>${t("contact.save")}</button>
      <button type="button" class="ghost" onClick=${done}>${t("common.cancel")}</button>
    </div>
    <${Handles} contact=${contact} />
  </form>`;
}

// Handles edits the identities; each change is saved at once.
function Handles({ contact }) {
  const [kind, setKind] = useState("phone");
  const [value, setValue] = useState("");
  const [error, setError] = useState("");
  const [sure, setSure] = useState(0); // the identity whose removal awaits a yes
  const add = async () => {
    if (!value.trim()) return;
    try {
      await addIdentity(contact.id, kind, value.trim());
      setValue("");
      setError("");
    } catch (err) {
      setError(err.code === "conflict" ? t("contact.handleTaken", { msg: err.message }) : err.message);
    }
  };
  return html`<fieldset class="handles">
    <legend>${t("contact.handles")}</legend>
    <ul class="identities">
      ${(contact.identities || []).map(
        (i) => html`<li data-identity=${i.id}>
          <${ChannelIcon} channel=${i.kind} size=${14} /> <${Handle} identity=${i} />
          ${sure === i.id
            ? html`<span class="confirm-inline">${t("contact.removeSure")}
                <button type="button" class="link small danger remove-yes" onClick=${() => removeIdentity(contact.id, i.id)}>${t("contact.remove")}</button>
                <button type="button" class="link small" onClick=${() => setSure(0)}>${t("common.cancel")}</button></span>`
            : html`<button type="button" class="ghost icon-btn remove-identity" aria-label=${t("contact.remove") + " " + handle(i.kind, i.value)} title=${t("contact.remove")} onClick=${() => setSure(i.id)}>✕</button>`}
        </li>`,
      )}
    </ul>
    <div class="row add-handle">
      <select aria-label=${t("contact.kind")} value=${kind} onChange=${(e) => setKind(e.target.value)}>
        ${KINDS.map((k) => html`<option value=${k}>${t("channel." + k)}</option>`)}
      </select>
      <input
        name="handle"
        aria-label=${t("contact.newHandle")}
        placeholder=${t("contact.handlePh." + kind)}
        value=${value}
        onInput=${(e) => setValue(e.target.value)}
        onKeyDown=${(e) => {
          if (e.key === "Enter") {
            e.preventDefault();
            add();
          }
        }}
      />
      <button type="button" id="add-handle" onClick=${add}>${t("common.add")}</button>
    </div>
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </fieldset>`;
}
