// Accounts: the channel connections, the live state of each adapter
// (updated by account.state events), and the form that creates or edits
// an email, Telegram, WhatsApp or web account. Secrets are write-only: the
// server never sends them back; left blank on edit, the old one stays.
// While an account waits to be linked (phase "pairing") its QR code shows
// here, redrawn on each account.state event (the code rotates).
import { useEffect, useState } from "preact/hooks";
import { html } from "../core/html.js";
import { t } from "../core/i18n.js";
import { stamp } from "../core/format.js";
import { get, patch, post } from "../core/api.js";
import { loadRefs } from "../core/session.js";
import { useStore, setState, toast } from "../core/store.js";
import { ChannelIcon } from "../components/Icons.js";
import { RegionSelect } from "../components/RegionSelect.js";

// EDITABLE are the channels this build has a form for.
const EDITABLE = ["email", "telegram", "whatsapp", "web", "phone"];

// CONNECTED are the channels this build connects (an adapter or a hook).
const CONNECTED = ["email", "telegram", "whatsapp", "web", "phone"];

// PROVIDERS are the PBXs a phone account connects (channels/phone).
const PROVIDERS = ["asterisk", "generic", "mango", "zadarma", "uis"];
const AMI = ["asterisk"];
const KEYED = ["mango", "zadarma"];

// NO_SECRET are the channels whose account has no secret to type in: a
// WhatsApp session is made by scanning the QR code.
const NO_SECRET = ["whatsapp"];

// FIELDS are each channel's settings on the form (channels/<name> Settings).
const FIELDS = {
  email: [
    { key: "address", type: "email", required: true },
    { key: "name" },
    { key: "imap_host", required: true, ph: "imap.yandex.ru" },
    { key: "imap_port", type: "number", ph: "993" },
    { key: "imap_security", options: ["tls", "starttls"] },
    { key: "imap_user" },
    { key: "smtp_host", required: true, ph: "smtp.yandex.ru" },
    { key: "smtp_port", type: "number", ph: "465" },
    { key: "smtp_security", options: ["tls", "starttls"] },
    { key: "smtp_user" },
    { key: "sent_folder" },
    { key: "signature", area: true },
  ],
  telegram: [
    { key: "mode", options: ["polling", "webhook"] },
    { key: "webhook_url", type: "url", ph: "https://inbox.example.ru/hooks/telegram/ID" },
  ],
  whatsapp: [
    { key: "number", ph: "+7 913 000-00-01" },
    { key: "pair_phone", ph: "+7 913 000-00-01" },
    { key: "first_messages", type: "bool", options: ["false", "true"] },
    { key: "first_per_minute", type: "number", ph: "5" },
    { key: "send_interval", ph: "1s" },
    { key: "groups", type: "bool", options: ["false", "true"] },
    { key: "download_limit", type: "number", ph: "20971520" },
    { key: "history_days", type: "number", ph: "14" },
  ],
  web: [],
  phone: [
    { key: "provider", options: PROVIDERS, required: true },
    { key: "host", required: true, ph: "pbx.example.ru", only: AMI },
    { key: "port", type: "number", ph: "5038", only: AMI },
    { key: "user", required: true, ph: "switchboard", only: AMI },
    { key: "originate_context", ph: "from-internal", only: AMI },
    { key: "recording_base_url", type: "url", ph: "https://pbx.example.ru/monitor/", only: AMI },
    { key: "recording_dir", ph: "/var/spool/asterisk/monitor", only: AMI },
    { key: "api_key", required: true, only: KEYED },
    { key: "api_url", type: "url", only: KEYED },
  ],
};

// value is a form field's setting as the channel reads it: a number, a
// boolean or text.
function value(fl, v) {
  if (fl.type === "number") return Number(v);
  if (fl.type === "bool") return v === "true";
  return v;
}

// fieldsOf are the settings fields the form shows for a channel (a phone
// account's depend on its provider).
function fieldsOf(channel, provider) {
  return FIELDS[channel].filter((fl) => !fl.only || fl.only.includes(provider || "asterisk"));
}

// daysSince is how many whole days ago an ISO time was.
const daysSince = (iso) => Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 86400000));

export function Accounts() {
  const accounts = useStore((s) => s.accounts);
  const states = useStore((s) => s.accountStates);
  const [editing, setEditing] = useState(null); // an account, {} for a new one, null: no form
  useEffect(() => {
    // Fresh "last received" times of hook accounts (a form through the
    // hook sends no account.state event). Only those: an event may have
    // come since this reply was made, and it is newer.
    get("/api/v1/accounts/states")
      .then((r) =>
        setState((st) => {
          const next = { ...st.accountStates };
          for (const [id, fresh] of Object.entries(r.states || {})) {
            if (fresh.phase === "hook" && next[id]?.phase === "hook") next[id] = { ...next[id], last_received: fresh.last_received };
          }
          return { accountStates: next };
        }),
      )
      .catch(() => {});
  }, []);
  return html`<section class="page">
    <div class="page-head">
      <h1>${t("nav.accounts")}</h1>
      ${!editing && html`<button type="button" class="primary" id="account-new" onClick=${() => setEditing({})}>${t("accounts.new")}</button>`}
    </div>
    <p class="muted">${t("accounts.lead")}</p>
    ${editing && html`<${AccountForm} key=${editing.id || "new"} account=${editing} done=${() => setEditing(null)} />`}
    <div class="table-wrap">
      <table class="table" id="accounts-table">
        <thead><tr><th>${t("accounts.channel")}</th><th>${t("accounts.name")}</th><th>${t("accounts.state")}</th><th>${t("accounts.since")}</th><th>${t("accounts.defaultSource")}</th><th>${t("accounts.enabled")}</th><th></th></tr></thead>
        <tbody>
          ${accounts.map((a) => {
            const st = states[a.id] || states[String(a.id)];
            return html`<tr data-account=${a.id} class=${st?.phase === "pairing" ? "has-pairing" : ""}>
              <td class="nowrap"><${ChannelIcon} channel=${a.channel} /> ${t("channel." + a.channel)}</td>
              <td>${a.name}</td>
              <td>
                ${st ? html`<span class=${"phase phase-" + st.phase}>${t("phase." + st.phase, {}, st.phase)}</span>` : html`<span class="muted">${a.enabled && !CONNECTED.includes(a.channel) ? t("accounts.noAdapter") : "—"}</span>`}
                ${st?.total ? html` <small class="muted">${st.done}/${st.total}</small>` : ""}
                ${st?.phase === "hook" && html`<div class="small muted last-received">${st.last_received ? t("accounts.lastReceived", { at: stamp(st.last_received) }) : t("accounts.nothingYet")}</div>`}
                ${st?.error &&
                html`<div class=${"small account-error " + (st.phase === "failing" ? "error-text" : "muted")}>${t("accountError." + (st.error_kind || "other"), {}, st.error)}
                  <div class="muted small raw-error">${st.error}</div></div>`}
                ${st?.warning && html`<div class="small warn-text account-warning">${t("accounts.warn." + st.warning, { n: daysSince(st.warning_since), at: stamp(st.warning_since) }, st.warning)}</div>`}
              </td>
              <td class="nowrap muted">${st ? stamp(st.since) : ""}</td>
              <td>${a.default_source || html`<span class="muted">—</span>`}</td>
              <td>${a.enabled ? t("common.yes") : t("common.no")}</td>
              <td class="nowrap">${EDITABLE.includes(a.channel) && html`<button type="button" class="link small edit-account" onClick=${() => setEditing(a)}>${t("contact.edit")}</button>`}
                ${a.channel === "whatsapp" && st?.phase === "live" && html` <button type="button" class="link small unlink-account" onClick=${() => unlink(a)}>${t("accounts.unlink")}</button>`}</td>
            </tr>
            ${st?.phase === "pairing" && html`<tr class="pairing-row" data-pairing=${a.id}><td colspan="7"><${Pairing} account=${a} rev=${st.rev || 0} /></td></tr>`}`;
          })}
        </tbody>
      </table>
    </div>
    ${accounts.length === 0 && html`<p class="empty">${t("accounts.empty")}</p>`}
  </section>`;
}

// unlink logs a WhatsApp account's device out, after asking; the account
// then shows a new QR code.
async function unlink(a) {
  if (!window.confirm(t("accounts.unlinkConfirm", { name: a.name }))) return;
  try {
    await post(`/api/v1/accounts/${a.id}/unlink`, {});
    toast("ok", t("accounts.unlinked"));
  } catch (err) {
    toast("error", err.message);
  }
}

// Pairing is the QR code an account waits to be scanned with. The image is
// the owner's only (the server refuses anyone else); rev is the id of the
// last account.state event, so a rotated code loads at once.
function Pairing({ account, rev }) {
  const [failed, setFailed] = useState(false);
  useEffect(() => setFailed(false), [rev]);
  if (account.settings?.pair_phone) return html`<${PhoneCode} account=${account} rev=${rev} />`;
  return html`<div class="pairing">
    ${failed
      ? html`<div class="pairing-qr pairing-gone muted small">${t("accounts.qrGone")}</div>`
      : html`<img class="pairing-qr" alt=${t("accounts.qrAlt", { name: account.name })}
          src=${`/api/v1/accounts/${account.id}/pairing.png?rev=${rev}`} onError=${() => setFailed(true)} />`}
    <div class="pairing-how">
      <strong>${t("accounts.pairTitle")}</strong>
      <ol>
        <li>${t("accounts.pair1")}</li>
        <li>${t("accounts.pair2")}</li>
        <li>${t("accounts.pair3")}</li>
      </ol>
      <p class="muted small">${t("accounts.pairRotates")}</p>
    </div>
  </div>`;
}

// PhoneCode is the code to type on the phone when a WhatsApp account
// links by phone number (its pair_phone setting) instead of a QR code.
function PhoneCode({ account, rev }) {
  const [code, setCode] = useState("");
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    setFailed(false);
    get(`/api/v1/accounts/${account.id}/pairing-code`).then((r) => setCode(r.code), () => setFailed(true));
  }, [rev]);
  return html`<div class="pairing">
    ${failed
      ? html`<div class="pairing-qr pairing-gone muted small">${t("accounts.qrGone")}</div>`
      : html`<div class="pairing-code" data-pairing-code><b>${code}</b></div>`}
    <div class="pairing-how">
      <strong>${t("accounts.pairPhoneTitle", { phone: account.settings.pair_phone })}</strong>
      <ol>
        <li>${t("accounts.pair1")}</li>
        <li>${t("accounts.pair2")}</li>
        <li>${t("accounts.pairPhone3")}</li>
      </ol>
      <p class="muted small">${t("accounts.pairPhoneSecret")}</p>
    </div>
  </div>`;
}

function AccountForm({ account, done }) {
  const isNew = !account.id;
  const [channel, setChannel] = useState(account.channel || "email");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const settings = account.settings && typeof account.settings === "object" ? account.settings : {};
  const [provider, setProvider] = useState(settings.provider || "asterisk");
  const fields = fieldsOf(channel, provider);
  const [tested, setTested] = useState(null); // {ok, message} of "Test connection"
  const formBody = (form) => {
    const f = new FormData(form);
    const next = { ...settings };
    for (const fl of FIELDS[channel]) {
      const v = String(f.get(fl.key) ?? "").trim();
      if (!fields.includes(fl) || v === "") delete next[fl.key];
      else next[fl.key] = value(fl, v);
    }
    const body = { channel, settings: next };
    const secret = String(f.get("secret") || "");
    if (secret !== "") body.secret = secret;
    if (!isNew) body.id = account.id;
    return body;
  };
  const test = async (e) => {
    setTested({ ok: null, message: t("accounts.testing") });
    try {
      setTested(await post("/api/v1/accounts/test", formBody(e.target.form)));
    } catch (err) {
      setTested({ ok: false, message: err.message });
    }
  };
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    // Keep the settings the form does not show (aliases, folders…).
    const next = { ...settings };
    for (const fl of FIELDS[channel]) {
      if (!fields.includes(fl)) {
        delete next[fl.key];
        continue;
      }
      const v = String(f.get(fl.key) ?? "").trim();
      if (v === "") delete next[fl.key];
      else next[fl.key] = value(fl, v);
    }
    const body = { name: String(f.get("name")).trim(), settings: next, default_source: String(f.get("default_source")).trim(), region: String(f.get("region") || ""), enabled: f.get("enabled") === "on" };
    const secret = String(f.get("secret") || "");
    if (secret !== "") body.secret = secret;
    if (isNew) body.channel = channel;
    setBusy(true);
    try {
      if (isNew) await post("/api/v1/accounts", body);
      else await patch(`/api/v1/accounts/${account.id}`, body);
      toast("ok", t("accounts.saved"));
      await loadRefs();
      done();
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="card account-form" id="account-form" onSubmit=${submit} autocomplete="off">
    <h2>${isNew ? t("accounts.new") : t("accounts.editing", { name: account.name })}</h2>
    <div class="grid-form">
      <label>${t("accounts.channel")}
        <select name="channel" value=${channel} disabled=${!isNew} onChange=${(e) => setChannel(e.target.value)}>
          ${EDITABLE.map((c) => html`<option value=${c}>${t("channel." + c)}</option>`)}
        </select>
      </label>
      <label>${t("accounts.name")}<input name="name" required value=${account.name || ""} placeholder=${t("accounts.namePh." + channel)} /></label>
      ${fields.map(
        (fl) => html`<label class=${fl.area ? "wide" : ""}>${t("accounts.f." + fl.key)}
          ${fl.options
            ? html`<select name=${fl.key} value=${fl.key === "provider" ? provider : String(settings[fl.key] ?? "")}
                onChange=${fl.key === "provider" ? (e) => setProvider(e.target.value) : undefined}>
                ${!fl.required && html`<option value="">${t("accounts.default")}</option>`}
                ${fl.options.map((o) => html`<option value=${o}>${t("accounts.o." + o, {}, o)}</option>`)}
              </select>`
            : fl.area
              ? html`<textarea name=${fl.key} rows="2" value=${settings[fl.key] ?? ""}></textarea>`
              : html`<input name=${fl.key} type=${fl.type || "text"} required=${fl.required} placeholder=${fl.ph || ""} value=${settings[fl.key] ?? ""} />`}
        </label>`,
      )}
      ${!NO_SECRET.includes(channel) &&
      html`<label>${t("accounts.secret." + channel + (channel === "phone" ? "." + provider : ""))}
        <input name="secret" type="password" autocomplete="new-password" required=${isNew} placeholder=${!isNew && account.has_secret ? t("accounts.keepSecret") : ""} />
      </label>`}
      <label>${t("accounts.defaultSource")}<input name="default_source" value=${account.default_source || ""} /></label>
      <label title=${t("accounts.regionHint")}>${t("accounts.region")}
        <${RegionSelect} name="region" class="account-region" value=${account.region} none=${t("accounts.regionDefault")} label=${t("accounts.region")} />
      </label>
      <label class="check"><input type="checkbox" name="enabled" checked=${isNew || account.enabled} /> ${t("accounts.enabled")}</label>
    </div>
    ${channel === "web" && html`<p class="muted small">${isNew ? t("accounts.webHint") : t("accounts.webHook", { path: `/hooks/web/${account.id}` })}</p>`}
    ${channel === "whatsapp" && html`<p class="muted small" id="whatsapp-hint">${t("accounts.whatsappHint")}</p>`}
    ${channel === "phone" &&
    html`<p class="muted small" id="phone-hint">
      ${AMI.includes(provider)
        ? t("accounts.phoneAMIHint")
        : isNew
          ? t("accounts.phoneHookNew")
          : t("accounts.phoneHook", { path: `/hooks/phone/${account.id}` + (provider === "uis" ? "/<secret>" : "") })}
      ${" "}${t("accounts.phoneDocs")}
    </p>`}
    ${!isNew && account.has_secret && html`<p class="muted small">${t("accounts.secretSet")}</p>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${tested &&
    html`<p class=${tested.ok ? "ok-text" : tested.ok === false ? "error" : "muted"} id="account-tested" role="status">
      ${tested.ok === null ? tested.message : t(tested.ok ? "accounts.testOK" : "accounts.testFailed") + ": " + tested.message}
    </p>`}
    <div class="row">
      <button type="submit" class="primary" id="account-save" disabled=${busy}>${t("contact.save")}</button>
      ${channel !== "whatsapp" && html`<button type="button" class="ghost" id="account-test" onClick=${test}>${t("accounts.test")}</button>`}
      <button type="button" class="ghost" onClick=${done}>${t("common.cancel")}</button>
    </div>
  </form>`;
}
