// ContactPanel: who the contact is (identities, responsible manager, the
// ad source that first brought them; edited in ContactCard), contacts that
// may be the same person (Duplicates), and their deals, moved through the
// pipeline here: stage, won with an amount, lost with a reason.
import { useState } from "preact/hooks";
import { html } from "../core/html.js";
import { useStore, setState } from "../core/store.js";
import { t } from "../core/i18n.js";
import { money, parseMoney, stamp, fractionDigits } from "../core/format.js";
import { userName } from "../core/session.js";
import { moveStage, winDeal, loseDeal } from "../inbox/conversation.js";
import { ContactCard } from "./ContactCard.js";
import { Duplicates } from "./Duplicates.js";


export function ContactPanel({ detail, deals }) {
  useStore((s) => s.users);
  const { contact, touches } = detail;
  const sources = Object.fromEntries((detail.ad_sources || []).map((x) => [x.id, x.name]));
  const first = touches.find((x) => x.direction === "in" && x.ad_source_id != null);
  const unlinked = touches.filter((x) => x.deal_id == null && !x.not_a_sale && !x.history && !x.automated);
  const sorted = [...deals].sort((a, b) => (b.status === "open") - (a.status === "open") || b.id - a.id);
  return html`<aside class="panel" id="contact-panel" aria-label=${t("panel.label")}>
    <button type="button" class="ghost panel-close" onClick=${() => setState({ panelOpen: false })} aria-label=${t("common.close")}>✕</button>
    <section>
      <${ContactCard} key=${contact.id} contact=${contact} />
      <dl class="facts">
        <dt>${t("panel.responsible")}</dt>
        <dd>${contact.responsible_id ? userName(contact.responsible_id) : html`<span class="muted">${t("panel.nobody")}</span>`}</dd>
        <dt>${t("panel.firstSource")}</dt>
        <dd>${first ? sources[first.ad_source_id] || "#" + first.ad_source_id : html`<span class="muted">—</span>`}</dd>
        <dt>${t("panel.since")}</dt>
        <dd>${stamp(contact.created_at)}</dd>
      </dl>
      ${contact.note && html`<p class="note">${contact.note}</p>`}
    </section>
    <${Duplicates} contact=${contact} version=${touches.length + "|" + contact.updated_at} />
    ${unlinked.length > 0 &&
    html`<section class="warnbox">
      <a
        href=${"#touch-" + unlinked[0].id}
        onClick=${(e) => {
          e.preventDefault();
          document.getElementById("touch-" + unlinked[0].id)?.scrollIntoView({ block: "center", behavior: "smooth" });
        }}
        >${t("panel.unlinked", { n: unlinked.length })}</a
      >
    </section>`}
    <section>
      <h3>${t("panel.deals")}</h3>
      ${deals.length === 0 && html`<p class="muted">${t("panel.noDeals")}</p>`}
      ${sorted.map((d) => html`<${Deal} key=${d.id} d=${d} sources=${sources} />`)}
    </section>
  </aside>`;
}

function Deal({ d, sources }) {
  const stages = useStore((s) => s.stages);
  const [mode, setMode] = useState(""); // "", "won", "lost"
  const [value, setValue] = useState("");
  const [error, setError] = useState("");
  const stage = stages.find((s) => s.id === d.stage_id);
  const open = d.status === "open";
  const start = (m) => {
    setMode(m);
    setError("");
    setValue(m === "won" && d.amount > 0 ? String(d.amount / 10 ** fractionDigits(d.currency)) : "");
  };
  const confirm = async (e) => {
    e.preventDefault();
    if (mode === "won") {
      const amount = parseMoney(value, d.currency);
      if (!amount) {
        setError(t("deal.badAmount"));
        return;
      }
      if (await winDeal(d.id, amount)) setMode("");
    } else {
      if (!value.trim()) {
        setError(t("deal.needReason"));
        return;
      }
      if (await loseDeal(d.id, value.trim())) setMode("");
    }
  };
  return html`<div class=${"deal " + d.status} data-deal=${d.id}>
    <div class="deal-head">
      <b>${d.title || t("deal.untitled", { id: d.id })}</b>
      <span class=${"badge " + d.status} title=${open ? stage?.name || "" : t("deal." + d.status)}>${open ? stage?.name || "" : t("deal." + d.status)}</span>
    </div>
    <div class="deal-facts muted">
      ${d.amount > 0 && html`<span class="amount">${money(d.amount, d.currency)}</span>`}
      ${d.ad_source_id != null && sources[d.ad_source_id] && html`<span>${t("touch.source")} ${sources[d.ad_source_id]}</span>`}
      ${d.status === "lost" && d.lost_reason && html`<span>${t("deal.reason")}: ${d.lost_reason}</span>`}
    </div>
    ${open &&
    !mode &&
    html`<label class="stage-row"><span class="muted">${t("deal.stage")}</span>
      <select class="stage" value=${d.stage_id} onChange=${(e) => moveStage(d.id, Number(e.target.value))}>
        ${stages.filter((s) => s.kind === "open").map((s) => html`<option value=${s.id}>${s.name}</option>`)}
      </select></label>
    <div class="deal-actions">
      <button type="button" class="won-btn" onClick=${() => start("won")}>${t("deal.won")}</button>
      <button type="button" class="lost-btn" onClick=${() => start("lost")}>${t("deal.lost")}</button>
    </div>`}
    ${!open && !mode && html`<div class="deal-actions"><button type="button" class="link small" onClick=${() => moveStage(d.id, stages.find((s) => s.kind === "open")?.id)}>${t("deal.reopen")}</button></div>`}
    ${mode &&
    html`<form class="deal-close" onSubmit=${confirm}>
      <input
        autofocus
        class=${mode === "won" ? "won-amount" : "lost-reason"}
        inputmode=${mode === "won" ? "decimal" : "text"}
        placeholder=${mode === "won" ? t("deal.amount", { cur: d.currency }) : t("deal.reasonPh")}
        value=${value}
        onInput=${(e) => setValue(e.target.value)}
      />
      <button type="submit" class="primary">${mode === "won" ? t("deal.markWon") : t("deal.markLost")}</button>
      <button type="button" class="ghost" onClick=${() => setMode("")}>${t("common.cancel")}</button>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </form>`}
  </div>`;
}
