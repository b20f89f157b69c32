// DealView: one deal (stage, won or lost, amount, source, responsible)
// with its touches across channels, oldest first; each opens its
// conversation in the inbox.
import { useState } from "preact/hooks";
import { html } from "../core/html.js";
import { get, post } from "../core/api.js";
import { t } from "../core/i18n.js";
import { money, stamp } from "../core/format.js";
import { userName } from "../core/session.js";
import { useStore, toast } from "../core/store.js";
import { go } from "../inbox/inbox.js";
import { kindLabel } from "../inbox/Timeline.js";
import { ChannelIcon } from "../components/Icons.js";
import { useLoad } from "../owner/useLoad.js";
import { CloseForm } from "./CloseForm.js";

export function DealView({ id }) {
  const stages = useStore((s) => s.stages);
  const role = useStore((s) => s.me.user.role);
  const [closing, setClosing] = useState("");
  const { data, error, reload } = useLoad(() => get(`/api/v1/deals/${id}/touches`), [id]);
  const back = html`<a href="/deals" class="small" id="deal-back" onClick=${(e) => (e.preventDefault(), go({ page: "deals", dealId: null }))}>← ${t("nav.deals")}</a>`;
  if (error) return html`<section class="page">${back}<p class="error" role="alert">${error}</p></section>`;
  if (!data) return html`<section class="page">${back}<p class="muted">${t("common.loading")}</p></section>`;
  const d = data.deal;
  const open = d.status === "open";
  const stage = stages.find((s) => s.id === d.stage_id);
  const move = async (stageId) => {
    try {
      await post(`/api/v1/deals/${d.id}/stage`, { stage_id: stageId });
      toast("ok", t("toast.stage"));
      reload();
    } catch (e) {
      toast("error", e.message);
    }
  };
  const queue = role === "manager" ? "mine" : "all";
  return html`<section class="page deal-page" id="deal-page" data-deal=${d.id}>
    ${back}
    <div class="page-head">
      <h1>${d.title || t("deal.untitled", { id: d.id })}</h1>
      <span class=${"badge " + d.status}>${open ? stage?.name || "" : t("deals.status." + d.status)}</span>
    </div>
    <dl class="facts deal-facts-page">
      <dt>${t("deals.contact")}</dt><dd>${d.contact_name || "—"}</dd>
      <dt>${t("deals.amount")}</dt><dd>${d.amount > 0 ? money(d.amount, d.currency) : "—"}</dd>
      <dt>${t("deals.source")}</dt><dd>${d.source_name || "—"}</dd>
      <dt>${t("panel.responsible")}</dt><dd>${d.responsible_id ? userName(d.responsible_id) : t("deals.nobody")}</dd>
      <dt>${t("deals.created")}</dt><dd>${stamp(d.created_at)}</dd>
      ${d.closed_at && html`<dt>${t("deals.closed")}</dt><dd>${stamp(d.closed_at)}</dd>`}
      ${d.status === "lost" && d.lost_reason && html`<dt>${t("deal.reason")}</dt><dd>${d.lost_reason}</dd>`}
    </dl>
    ${open &&
    !closing &&
    html`<div class="deal-actions">
      <label class="stage-row"><span class="muted">${t("deal.stage")}</span>
        <select class="stage" id="deal-stage" value=${d.stage_id} onChange=${(e) => move(Number(e.target.value))}>
          ${stages.filter((s) => s.kind === "open").map((s) => html`<option value=${s.id}>${s.name}</option>`)}
        </select></label>
      <button type="button" class="won-btn" onClick=${() => setClosing("won")}>${t("deal.won")}</button>
      <button type="button" class="lost-btn" onClick=${() => setClosing("lost")}>${t("deal.lost")}</button>
    </div>`}
    ${!open && html`<button type="button" class="link small" id="deal-reopen" onClick=${() => move(stages.find((s) => s.kind === "open")?.id)}>${t("deal.reopen")}</button>`}
    ${closing && html`<${CloseForm} d=${d} mode=${closing} done=${(ok) => (setClosing(""), ok && reload())} />`}
    <h2>${t("deals.touches", { n: data.touches.length })}</h2>
    <ol class="deal-touches" id="deal-touches">
      ${data.touches.map((x) => {
        let m = {};
        try {
          m = typeof x.meta === "string" ? JSON.parse(x.meta) : x.meta || {};
        } catch {}
        return html`<li class=${"deal-touch " + (x.direction === "out" ? "out" : "in")} data-touch=${x.id}>
          <div class="small muted"><${ChannelIcon} channel=${x.channel} /> ${kindLabel(x, m)} · <time datetime=${x.occurred_at}>${stamp(x.occurred_at)}</time> ·
            <a href=${`/inbox/${queue}/${x.conversation_id}`} onClick=${(e) => (e.preventDefault(), go({ page: "inbox", queue, convId: x.conversation_id }))}>${t("deals.openConversation")}</a></div>
          <div class="deal-touch-text">${(x.subject && x.channel === "email" ? x.subject + " — " : "") + (x.body || "").slice(0, 400)}</div>
        </li>`;
      })}
      ${data.touches.length === 0 && html`<li class="muted">${t("deals.noTouches")}</li>`}
    </ol>
  </section>`;
}
