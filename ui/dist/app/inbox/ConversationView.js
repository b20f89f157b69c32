// ConversationView: the open conversation: who and where, assignment and
// status, the timeline, the reply composer, and the contact panel.
import { html } from "../core/html.js";
import { useStore, setState } from "../core/store.js";
import { t } from "../core/i18n.js";
import { go } from "./inbox.js";
import { assign, setStatus } from "./conversation.js";
import { ChannelIcon } from "../components/Icons.js";
import { handle } from "../core/format.js";
import { Timeline } from "./Timeline.js";
import { Composer } from "./Composer.js";
import { ContactPanel } from "../contact/ContactPanel.js";
import { Snooze } from "./Snooze.js";

export function ConversationView() {
  const conv = useStore((s) => s.conv);
  const queue = useStore((s) => s.route.queue);
  const panelOpen = useStore((s) => s.panelOpen);
  useStore((s) => s.lang);
  const back = () => go({ page: "inbox", queue, convId: null });
  if (!conv) {
    return html`<section class="conv conv-empty" id="conversation">
      <div class="hint">
        <p>${t("conv.pick")}</p>
        <p class="keys"><kbd>j</kbd>/<kbd>k</kbd> ${t("keys.move")} · <kbd>r</kbd> ${t("keys.reply")} · <kbd>a</kbd> ${t("keys.assign")} · <kbd>e</kbd> ${t("keys.close")} · <kbd>s</kbd> ${t("keys.snooze")} · <kbd>/</kbd> ${t("keys.search")}</p>
      </div>
    </section>`;
  }
  if (!conv.detail) {
    return html`<section class="conv conv-empty" id="conversation">
      <button type="button" class="ghost back" onClick=${back}>← ${t("conv.back")}</button>
      <div class="hint">${conv.loading ? t("common.loading") : html`<p class="error" role="alert">${conv.gone ? t("conv.gone") : conv.error}</p>`}</div>
    </section>`;
  }
  const { conversation: c, contact } = conv.detail;
  return html`<section class=${"conv" + (panelOpen ? " panel-open" : "")} id="conversation" data-id=${c.id}>
    <div class="conv-main">
      <header class="conv-head">
        <button type="button" class="ghost back" onClick=${back} aria-label=${t("conv.back")}>←</button>
        <div class="conv-title">
          <h2 id="conv-contact">${contact.name || (contact.identities?.[0] ? handle(contact.identities[0].kind, contact.identities[0].value) : t("common.noName"))}</h2>
          <span class="muted"><${ChannelIcon} channel=${c.channel} /> ${t("channel." + c.channel)}${c.subject ? " · " + c.subject : ""}</span>
          ${conv.detail.participants?.length > 0 &&
          html`<span class="muted participants" id="conv-participants">${t("conv.participants")}: ${conv.detail.participants.map((x) => x.name ? `${x.name} (${handle(x.handle)})` : handle(x.handle)).join(", ")}</span>`}
        </div>
        <div class="conv-actions">
          <${Assign} c=${c} />
          ${c.status !== "closed" && html`<${Snooze} c=${c} />`}
          ${c.status === "closed"
            ? html`<button type="button" id="reopen-conv" onClick=${() => setStatus("open")} title="e">${t("conv.reopen")}</button>`
            : html`<button type="button" id="close-conv" onClick=${() => setStatus("closed")} title="e">${t("conv.close")}</button>`}
          <button type="button" class="ghost panel-toggle" aria-expanded=${panelOpen} onClick=${() => setState({ panelOpen: !panelOpen })}>${t("conv.contact")}</button>
        </div>
      </header>
      ${conv.gone && html`<p class="error pad" role="alert">${t("conv.gone")}</p>`}
      <${Timeline} detail=${conv.detail} deals=${conv.deals} />
      <${Composer} detail=${conv.detail} />
    </div>
    <${ContactPanel} detail=${conv.detail} deals=${conv.deals} />
  </section>`;
}

// Assign: a lead or owner picks anyone (or the queue); a manager takes an
// unassigned conversation, or hands on or returns their own.
function Assign({ c }) {
  const me = useStore((s) => s.me.user);
  const users = useStore((s) => s.users);
  const manager = me.role === "manager";
  if (manager && c.assignee_id == null) {
    return html`<button type="button" id="take" class="primary" onClick=${() => assign(me.id)} title="a">${t("conv.take")}</button>`;
  }
  const active = users.filter((u) => u.active);
  const onChange = (e) => {
    const v = e.target.value;
    assign(v === "" ? null : Number(v));
  };
  return html`<label class="assign">
    <span class="sr">${t("conv.assignee")}</span>
    <select id="assign" value=${c.assignee_id ?? ""} onChange=${onChange} title="a">
      <option value="">${t("conv.noAssignee")}</option>
      ${active.map((u) => html`<option value=${u.id}>${u.id === me.id ? t("conv.meName", { name: u.name || u.email }) : u.name || u.email}</option>`)}
    </select>
  </label>`;
}
