// Timeline: the conversation's touches in time order. Message text is
// rendered as text only; email HTML only inside EmailFrame's sandbox.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../core/html.js";
import { useStore } from "../core/store.js";
import { t } from "../core/i18n.js";
import { stamp, duration, safeURL, handle, parseMoney } from "../core/format.js";
import { userName } from "../core/session.js";
import { deliveryOf, failureText, linkTouch, newDeal, notASale, retry, sendAnotherWay } from "./conversation.js";
import { selectConversation } from "./inbox.js";
import { ChannelIcon, Icon } from "../components/Icons.js";
import { EmailFrame, shownInline } from "./EmailFrame.js";
import { Files } from "./Files.js";

export const NOT_A_SALE_REASONS = ["spam", "support", "supplier", "personal"];

// SENDS are the channels that carry a written reply.
const SENDS = new Set(["email", "telegram", "whatsapp"]);

export function Timeline({ detail, deals }) {
  const box = useRef(null);
  const touches = detail.touches;
  useStore((s) => s.statuses);
  const queue = useStore((s) => s.route.queue);
  // Follow the newest touch when the conversation opens or grows.
  useEffect(() => {
    if (box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [detail.conversation.id, touches.length]);
  const names = (list) => Object.fromEntries((list || []).map((x) => [x.id, x.name]));
  const ctx = {
    entry: names(detail.entry_points),
    source: names(detail.ad_sources),
    files: detail.attachments || [],
    deals,
    openDeals: deals.filter((d) => d.status === "open"),
    convId: detail.conversation.id,
    contactId: detail.conversation.contact_id,
    people: Object.fromEntries((detail.participants || []).map((x) => [x.contact_id, x])),
    queue,
  };
  return html`<div class="timeline" id="timeline" ref=${box} aria-live="polite">
    ${touches.length === 0 && html`<p class="empty">${t("conv.noTouches")}</p>`}
    ${touches.map((x, i) => html`<${Touch} key=${x.id} x=${x} ctx=${ctx} sameDeal=${i > 0 && touches[i - 1].deal_id === x.deal_id} />`)}
  </div>`;
}

function meta(x) {
  return x.meta && typeof x.meta === "object" ? x.meta : {};
}

// Touch is one card; sameDeal: the card before is on the same deal, so
// the deal is not named again.
function Touch({ x, ctx, sameDeal }) {
  const m = meta(x);
  const out = x.direction === "out";
  const unlinked = x.deal_id == null && !x.not_a_sale && !x.history && !x.automated;
  const files = ctx.files.filter((f) => f.touch_id === x.id && !shownInline(f, x.html));
  const deal = x.deal_id != null ? ctx.deals.find((d) => d.id === x.deal_id) : null;
  const elsewhere = x.conversation_id !== ctx.convId;
  const failed = out && x.kind !== "call" && deliveryOf(x).status === "failed";
  return html`<article class=${"touch " + (out ? "out" : "in") + (unlinked ? " is-unlinked" : "") + (failed ? " is-failed" : "")} data-touch=${x.id} id=${"touch-" + x.id}>
    <header class="touch-head">
      <${ChannelIcon} channel=${x.channel} />
      <span class="kind">${kindLabel(x, m)}</span>
      <${Participant} x=${x} ctx=${ctx} />
      ${out && html`<span class="author">${x.author_id ? userName(x.author_id) : x.automated ? t("touch.automated") : t("touch.outside")}</span>`}
      ${!out && x.handle && html`<span class="handle">${handle(x.handle)}${m.phone_ext && x.handle.startsWith("phone:") && html` <span class="phone-ext" data-phone-ext>${t("touch.phoneExt", { ext: m.phone_ext })}</span>`}</span>`}
      ${!out && m.phone_unread && html`<span class="phone-unread" data-phone-unread title=${t("touch.phoneUnreadHint")}>${t("touch.phoneUnread", { phone: m.phone_unread })}</span>`}
      ${x.history && html`<span class="flag history" title=${t("touch.historyHint")}>${t("touch.history")}</span>`}
      ${elsewhere &&
      html`<a class="elsewhere" href=${"/inbox/" + ctx.queue + "/" + x.conversation_id} onClick=${(e) => {
        e.preventDefault();
        selectConversation(x.conversation_id);
      }}>${t("touch.elsewhere")}</a>`}
      <time datetime=${x.occurred_at}>${stamp(x.occurred_at)}</time>
    </header>
    ${x.subject && x.channel === "email" && html`<div class="subject">${x.subject}</div>`}
    ${x.parse_error && html`<${ParseProblem} x=${x} m=${m} />`}
    <${Body} x=${x} m=${m} />
    <${Files} files=${files} call=${x.kind === "call"} />
    <footer class="touch-foot">
      <${Origin} x=${x} m=${m} ctx=${ctx} />
      ${out && x.delivery_status && x.kind !== "call" && html`<${Delivery} x=${x} />`}
      ${deal && !sameDeal && html`<span class="tag deal-tag">${t("touch.deal")}: ${deal.title || "#" + deal.id}</span>`}
      ${x.not_a_sale &&
      html`<span class="tag">${x.not_a_sale.startsWith("contact:")
        ? x.not_a_sale === "contact:blocked" ? t("notClient.blocked") : t("notClient.is", { why: t("notClient." + x.not_a_sale.slice(8)) })
        : html`${t("touch.notASale")}: ${t("reason." + x.not_a_sale, {}, x.not_a_sale)}`}</span>`}
    </footer>
    ${failed && html`<${Failed} x=${x} />`}
    ${unlinked && html`<${Resolve} x=${x} ctx=${ctx} />`}
  </article>`;
}

// Participant names the sender of a touch who is not the conversation's
// contact (a colleague of the client writing in their thread), or the
// colleague our mailbox wrote to.
function Participant({ x, ctx }) {
  const who = x.contact_id !== ctx.contactId && ctx.people[x.contact_id];
  if (!who) return null;
  const name = who.name || handle(who.handle);
  return html`<span class="participant" data-participant=${x.contact_id} title=${t("touch.participantHint")}>${x.direction === "out" ? t("touch.toParticipant", { name }) : name}</span>`;
}

export function kindLabel(x, m) {
  if (x.kind === "call") {
    const out = x.direction === "out";
    if (m.call_answered === "false") return out ? t("touch.outCallNoAnswer") : t("touch.missedCall");
    return out ? t("touch.outCall") : t("touch.inCall");
  }
  return t("channel." + x.channel) + (x.direction === "out" ? " · " + t("touch.ours") : "");
}

function Body({ x, m }) {
  const [plain, setPlain] = useState(false);
  return html`
    ${x.kind === "call" && html`<${Call} x=${x} m=${m} />`}
    <${Forwarded} m=${m} />
    ${x.html && !plain
      ? html`<${EmailFrame} touch=${x} />`
      : x.body && html`<div class="text">${x.body}</div>`}
    ${x.html && x.body && html`<button type="button" class="link small" onClick=${() => setPlain(!plain)}>${plain ? t("touch.showHTML") : t("touch.showText")}</button>`}
    <${Extras} m=${m} />
  `;
}

// Call: a call's outcome (answered by whom, or why it was missed), ring
// and talk time, the queue, and where its recording stands (the player
// itself is the stored file, in Files).
function Call({ x, m }) {
  const answered = m.call_answered !== "false";
  const who = x.author_id ? userName(x.author_id) : m.call_extension ? t("touch.extension", { ext: m.call_extension }) : "";
  const rec = safeURL(m.call_recording_url || "");
  const parts = [];
  if (answered) {
    if (m.call_duration_s) parts.push(html`<span data-call="talk">${t("touch.talk")}: <b>${duration(m.call_duration_s)}</b></span>`);
    if (who) parts.push(html`<span data-call="who">${t(x.direction === "out" ? "touch.calledBy" : "touch.answeredBy")}: <b>${who}</b></span>`);
  } else {
    if (m.call_missed) parts.push(html`<span class="missed-reason" data-call="missed">${t("missed." + m.call_missed, {}, m.call_missed)}</span>`);
    if (who && x.direction === "out") parts.push(html`<span data-call="who">${t("touch.calledBy")}: <b>${who}</b></span>`);
  }
  if (m.call_ring_s && m.call_ring_s !== "0") parts.push(html`<span data-call="ring">${t("touch.ring")}: <b>${duration(m.call_ring_s)}</b></span>`);
  if (m.call_queue) parts.push(html`<span data-call="queue">${t("touch.queue")}: <b>${m.call_queue}</b></span>`);
  const status = m.call_recording_status;
  return html`<div class="call">
    ${parts}
    ${m.call_incomplete === "true" && html`<span class="warn" data-call="incomplete" title=${t("touch.incompleteHint")}><${Icon} name="alert" size=${12} /> ${t("touch.incomplete")}</span>`}
    ${status === "pending" && html`<span class="muted" data-call="recording">${t("touch.recordingPending")}</span>`}
    ${status === "failed" &&
    html`<span class="warn" data-call="recording">${t("touch.recordingFailed")}${m.call_recording_error ? ": " + m.call_recording_error : ""}
      ${rec && html` <a href=${rec} target="_blank" rel="noopener noreferrer"><${Icon} name="play" /> ${t("touch.recordingLink")}</a>`}</span>`}
    ${!status && rec && html`<a href=${rec} target="_blank" rel="noopener noreferrer"><${Icon} name="play" /> ${t("touch.recording")}</a>`}
  </div>`;
}

// Forwarded says whose words a forwarded message carries (a Telegram
// forward: a user, a hidden user, a group or a channel), above the text,
// which is not the client's own.
function Forwarded({ m }) {
  if (!m.forwarded_from) return null;
  const link = safeURL(m.forwarded_link || "");
  const from = link ? html`<a href=${link} target="_blank" rel="noopener noreferrer">${m.forwarded_from}</a>` : m.forwarded_from;
  return html`<div class="extra forwarded" data-extra="forwarded">${t("touch.forwardedFrom")} <b>${from}</b>${m.forwarded_at ? html` <span class="muted">(${t("touch.forwardedAt", { at: stamp(m.forwarded_at) })})</span>` : ""}</div>`;
}

// ParseProblem says what is wrong with a message that could not be read
// completely, in the user's language (channels/email/problem.go codes);
// another channel's parse_error is shown as it is.
function ParseProblem({ x, m }) {
  const said = m.parse_problem ? t("parse." + m.parse_problem, {}, "") : "";
  return html`<div class="warn-text" data-parse-problem=${m.parse_problem || ""}>
    ${t("touch.parseProblem")} ${said ? said + " " + t("parse.attached") : x.parse_error}
  </div>`;
}

// Extras shows what a chat message carries besides text (the meta keys
// of channels/telegram/inbound.go and channels/whatsapp/inbound.go): the
// message it quotes, a deletion, a reaction, a shared number, a contact
// card, a sticker, a location, files that were not kept.
function Extras({ m }) {
  const lines = [];
  if (m.quote) lines.push(html`<div class="extra" data-extra="quote">${t("touch.quote")}: «${m.quote}»</div>`);
  if (m.revoked) lines.push(html`<div class="extra" data-extra="revoked">${t("touch.revoked")}</div>`);
  if (m.reaction) lines.push(html`<div class="extra" data-extra="reaction">${t("touch.reaction")} ${m.reaction}</div>`);
  if (m.shared_phone) lines.push(html`<div class="extra" data-extra="shared-phone"><${Icon} name="phone" size=${12} /> ${t("touch.sharedPhone")}: <b>${m.shared_phone}</b></div>`);
  if (m.contact_phone || m.contact_name)
    lines.push(html`<div class="extra" data-extra="contact">${t("touch.contactCard")}: <b>${[m.contact_name, m.contact_phone].filter(Boolean).join(", ")}</b></div>`);
  if (m.sticker) lines.push(html`<div class="extra" data-extra="sticker">${t("touch.sticker")} ${m.sticker}</div>`);
  const at = /^(-?\d+(?:\.\d+)?),\s*(-?\d+(?:\.\d+)?)$/.exec(m.location || "");
  if (at)
    lines.push(html`<div class="extra" data-extra="location">${t("touch.location")}:
      <a href=${`https://www.openstreetmap.org/?mlat=${at[1]}&mlon=${at[2]}#map=16/${at[1]}/${at[2]}`} target="_blank" rel="noopener noreferrer">${at[1]}, ${at[2]}</a></div>`);
  if (m.attachments_skipped) lines.push(html`<div class="extra" data-extra="skipped">${t("touch.filesSkipped")}: ${m.attachments_skipped}</div>`);
  return lines.length ? lines : null;
}

function Origin({ x, m, ctx }) {
  const parts = [];
  if (x.entry_point_id != null) {
    const name = ctx.entry[x.entry_point_id] || "#" + x.entry_point_id;
    // a tracking number reads as a phone number
    parts.push(t("touch.entry") + " " + ((x.channel === "phone" || x.channel === "whatsapp") && /^\+\d+$/.test(name) ? handle("phone", name) : name));
  }
  if (x.ad_source_id != null) parts.push(t("touch.source") + " " + (ctx.source[x.ad_source_id] || "#" + x.ad_source_id));
  if (m.utm_campaign) parts.push("utm_campaign " + m.utm_campaign);
  const page = safeURL(m.page_url || "");
  if (!parts.length && !page) return null;
  return html`<span class="origin">
    ${parts.join(" · ")}
    ${page && html` · <a href=${page} target="_blank" rel="noopener noreferrer">${m.page_url}</a>`}
  </span>`;
}

function Delivery({ x }) {
  const d = deliveryOf(x);
  const icon = { queued: "clock", sent: "check", delivered: "checks", read: "checks", failed: "alert" }[d.status];
  const failed = d.status === "failed";
  return html`<span class=${"delivery " + d.status} data-status=${d.status} title=${failed ? "" : d.error || ""}>
    ${icon && html`<${Icon} name=${icon} size=${12} />`} ${t("delivery." + d.status, {}, d.status)}${!failed && d.error ? ": " + failureText(d) : ""}
    ${d.next && html` <span class="muted" data-retry>${t("delivery.retryAt", { n: d.attempts, at: stamp(d.next) })}</span>`}
  </span>`;
}

// NewDeal opens a deal from a touch: a button, then a title (default: made
// from the touch) and an amount if the manager knows it.
function NewDeal({ x }) {
  const currency = useStore((s) => s.me.currency) || "RUB";
  const [open, setOpen] = useState(false);
  const [title, setTitle] = useState("");
  const [amount, setAmount] = useState("");
  const [error, setError] = useState("");
  if (!open) return html`<button type="button" class="new-deal" onClick=${() => setOpen(true)}>${t("touch.newDeal")}</button>`;
  const submit = async (e) => {
    e.preventDefault();
    const minor = amount.trim() ? parseMoney(amount, currency) : 0;
    if (amount.trim() && !minor) return setError(t("deal.badAmount"));
    if (await newDeal(x.id, title.trim(), minor)) setOpen(false);
  };
  return html`<form class="new-deal-form" onSubmit=${submit}>
    <input class="new-deal-title" autofocus placeholder=${t("touch.newDealTitle")} aria-label=${t("touch.newDealTitle")} value=${title} onInput=${(e) => setTitle(e.target.value)} />
    <input class="new-deal-amount" inputmode="decimal" placeholder=${t("deal.amount", { cur: currency })} aria-label=${t("deal.amount", { cur: currency })} value=${amount} onInput=${(e) => setAmount(e.target.value)} />
    <button type="submit" class="primary">${t("touch.openDeal")}</button>
    <button type="button" class="ghost" onClick=${() => setOpen(false)}>${t("common.cancel")}</button>
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </form>`;
}

// Failed: a reply that did not go out: why, in the user's language, the
// channel's own words below it, and what to do: send it again (unless its
// account is disabled or its channel cannot send), or another way.
function Failed({ x }) {
  const d = deliveryOf(x);
  const acc = useStore((s) => s.accounts.find((a) => a.id === x.account_id));
  const again = acc && acc.enabled && SENDS.has(acc.channel) && d.failure !== "cannot_send";
  return html`<div class="failed-reply" data-failed=${x.id} role="alert">
    <p class="failed-why"><${Icon} name="alert" size=${14} /> ${failureText(d)}</p>
    ${d.error && html`<p class="failed-raw muted small">${t("failed.detail")}: <span>${d.error}</span></p>`}
    <div class="failed-actions">
      ${again && html`<button type="button" class="retry-send" onClick=${() => retry(x.id)}>${t("failed.retry")}</button>`}
      <button type="button" class=${(again ? "ghost" : "primary") + " send-other"} onClick=${() => sendAnotherWay(x)}>${t("failed.another")}</button>
      ${!again && acc && html`<span class="muted small" data-no-retry>${t("failed.noRetry", { name: acc.name })}</span>`}
    </div>
  </div>`;
}

// Resolve: an unlinked touch is linked to a deal, opens a new one, or is
// marked not a sale.
function Resolve({ x, ctx }) {
  return html`<div class="resolve" data-resolve=${x.id}>
    <span class="flag unlinked">${t("touch.unlinked")}</span>
    ${ctx.openDeals.length > 0 &&
    html`<select class="link-deal" aria-label=${t("touch.linkTo")} onChange=${(e) => e.target.value && linkTouch(x.id, Number(e.target.value))}>
      <option value="">${t("touch.linkTo")}</option>
      ${ctx.openDeals.map((d) => html`<option value=${d.id}>${d.title || "#" + d.id}</option>`)}
    </select>`}
    <${NewDeal} x=${x} />
    <select class="not-a-sale" aria-label=${t("touch.markNotASale")} onChange=${(e) => e.target.value && notASale(x.id, e.target.value)}>
      <option value="">${t("touch.markNotASale")}</option>
      ${NOT_A_SALE_REASONS.map((r) => html`<option value=${r}>${t("reason." + r)}</option>`)}
    </select>
  </div>`;
}
