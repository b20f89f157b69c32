// Composer: the reply. It picks among the accounts the contact can be
// reached on (email to a caller whose address we know, WhatsApp to a phone
// number), takes files, and sends with Ctrl+Enter. The reply's status then
// moves on its card in the timeline, live.
import { useEffect, useState } from "preact/hooks";
import { html } from "../core/html.js";
import { useStore, setState } from "../core/store.js";
import { t } from "../core/i18n.js";
import { bytes } from "../core/format.js";
import { reply } from "./conversation.js";
import { Icon } from "../components/Icons.js";

const MAX_FILES = 20 * 1024 * 1024;

// reachable says whether an account's channel can carry a reply to a
// contact with these identity kinds.
function reachable(account, kinds) {
  switch (account.channel) {
    case "email":
      return kinds.has("email");
    case "telegram":
      return kinds.has("telegram");
    case "whatsapp":
      return kinds.has("whatsapp") || kinds.has("phone");
    default:
      return false; // phone and web accounts do not send
  }
}

function readFile(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve({ name: file.name, content_type: file.type || "application/octet-stream", data: String(r.result).split(",")[1] || "", size: file.size });
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

export function Composer({ detail }) {
  const accounts = useStore((s) => s.accounts);
  const refsLoaded = useStore((s) => s.refsLoaded);
  const c = detail.conversation;
  const kinds = new Set((detail.contact.identities || []).map((i) => i.kind));
  const reach = accounts.filter((a) => reachable(a, kinds));
  const options = reach.filter((a) => a.enabled).sort((a, b) => (b.id === c.account_id) - (a.id === c.account_id));
  const [accountId, setAccountId] = useState(0);
  const [text, setText] = useState("");
  const [subject, setSubject] = useState("");
  const [files, setFiles] = useState([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  useEffect(() => {
    setAccountId(0);
    setText("");
    setSubject("");
    setFiles([]);
    setError("");
  }, [c.id]);
  // "Send another way" of a failed reply: its text, through another
  // account than the one that failed (if the contact has one).
  const resend = useStore((s) => s.resend);
  useEffect(() => {
    if (!resend) return;
    const other = options.find((a) => a.id !== resend.accountId);
    setAccountId(other ? other.id : 0);
    setText(resend.text);
    setState({ resend: null });
    requestAnimationFrame(() => document.getElementById("reply-text")?.focus());
  }, [resend]);
  const account = options.find((a) => a.id === accountId) || options[0];
  if (!refsLoaded) {
    return html`<div class="composer none" id="composer"><p class="muted">${t("common.loading")}</p></div>`;
  }
  if (!account) {
    return html`<div class="composer none" id="composer"><p class="muted">${t(reach.length ? "reply.disabled" : "reply.nowhere")}</p></div>`;
  }
  const size = files.reduce((n, f) => n + f.size, 0);
  const send = async (e) => {
    e?.preventDefault();
    if (busy || (!text.trim() && !files.length)) return;
    if (size > MAX_FILES) {
      setError(t("reply.tooBig"));
      return;
    }
    setBusy(true);
    setError("");
    const body = { text };
    if (account.id !== c.account_id) body.account_id = account.id;
    if (account.channel === "email" && subject.trim()) body.subject = subject.trim();
    if (files.length) body.attachments = files.map(({ name, content_type, data }) => ({ name, content_type, data }));
    try {
      await reply(body);
      setText("");
      setSubject("");
      setFiles([]);
    } catch (err) {
      setError(err.message);
    }
    setBusy(false);
  };
  const addFiles = async (e) => {
    const picked = await Promise.all([...e.target.files].map(readFile));
    setFiles([...files, ...picked]);
    e.target.value = "";
  };
  return html`<form class="composer" id="composer" onSubmit=${send}>
    <div class="composer-row">
      ${options.length > 1
        ? html`<select id="reply-account" aria-label=${t("reply.via")} value=${account.id} onChange=${(e) => setAccountId(Number(e.target.value))}>
            ${options.map((a) => html`<option value=${a.id}>${t("channel." + a.channel)} · ${a.name}</option>`)}
          </select>`
        : html`<span class="muted via">${t("reply.via")}: ${t("channel." + account.channel)} · ${account.name}</span>`}
      ${account.channel === "email" && html`<input id="reply-subject" placeholder=${t("reply.subject")} value=${subject} onInput=${(e) => setSubject(e.target.value)} />`}
    </div>
    ${detail.participants?.length > 0 &&
    html`<p class="muted small to-contact" id="reply-to-contact">${t("reply.toContactOnly", { name: detail.contact.name || t("common.noName") })}</p>`}
    <textarea
      id="reply-text"
      rows="3"
      placeholder=${t("reply.placeholder")}
      value=${text}
      onInput=${(e) => setText(e.target.value)}
      onKeyDown=${(e) => (e.ctrlKey || e.metaKey) && e.key === "Enter" && send(e)}
    ></textarea>
    ${files.length > 0 &&
    html`<ul class="files pending">
      ${files.map(
        (f, i) => html`<li><${Icon} name="clip" /> ${f.name} <small class="muted">${bytes(f.size)}</small>
          <button type="button" class="link small" onClick=${() => setFiles(files.filter((_, j) => j !== i))} aria-label=${t("reply.remove")}>✕</button></li>`,
      )}
    </ul>`}
    <div class="composer-row">
      <label class="attach ghost"><${Icon} name="clip" /> ${t("reply.attach")}<input type="file" multiple onChange=${addFiles} /></label>
      ${error && html`<span class="error" role="alert" id="reply-error">${error}</span>`}
      <span class="spacer"></span>
      <small class="muted hide-narrow">Ctrl+Enter</small>
      <button type="submit" id="reply-send" class="primary" disabled=${busy || (!text.trim() && !files.length)}>${busy ? t("reply.sending") : t("reply.send")}</button>
    </div>
  </form>`;
}
