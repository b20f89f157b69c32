// Board: open deals as cards in the pipeline's open stages. A card is
// dragged to another stage, or onto Won / Lost at the end (which ask for
// the amount or the reason on the card), or closed from its own buttons.
// Column heads count and sum every open deal the filters select (the
// API's sums), not only the cards shown.
import { useState } from "preact/hooks";
import { html } from "../core/html.js";
import { post } from "../core/api.js";
import { t } from "../core/i18n.js";
import { money, elapsed } from "../core/format.js";
import { userName } from "../core/session.js";
import { useStore, toast } from "../core/store.js";
import { go } from "../inbox/inbox.js";
import { CloseForm } from "./CloseForm.js";

// BOARD_LIMIT is how many open deals the board shows (the newest); the
// column heads count them all.
export const BOARD_LIMIT = 500;

// sumsText is "3 · 450 000 ₽" for the sums of one stage (or status).
export function sumsText(sums) {
  const n = sums.reduce((a, s) => a + s.count, 0);
  const amounts = sums.filter((s) => s.amount > 0).map((s) => money(s.amount, s.currency));
  return [String(n), ...amounts].join(" · ");
}

export function Board({ page, seesAll, reload }) {
  const stages = useStore((s) => s.stages).filter((s) => s.kind === "open");
  const [moved, setMoved] = useState({}); // deal id -> stage id, until the reload
  const [over, setOver] = useState(null);
  const [closing, setClosing] = useState(null); // {id, mode}
  const deals = page.deals.map((d) => (moved[d.id] ? { ...d, stage_id: moved[d.id] } : d));
  const move = async (id, stageId) => {
    const d = deals.find((x) => x.id === id);
    if (!d || d.stage_id === stageId) return;
    setMoved({ ...moved, [id]: stageId });
    try {
      await post(`/api/v1/deals/${id}/stage`, { stage_id: stageId });
      toast("ok", t("toast.stage"));
      reload();
    } catch (e) {
      setMoved((m) => ({ ...m, [id]: undefined }));
      toast("error", e.message);
    }
  };
  const drop = (target) => (e) => {
    e.preventDefault();
    setOver(null);
    const id = Number(e.dataTransfer.getData("text/plain"));
    if (!id) return;
    if (target === "won" || target === "lost") setClosing({ id, mode: target });
    else move(id, target);
  };
  const zone = (target) => ({
    onDragOver: (e) => {
      e.preventDefault();
      e.dataTransfer.dropEffect = "move";
      if (over !== target) setOver(target);
    },
    onDragLeave: () => setOver(null),
    onDrop: drop(target),
  });
  return html`<div class="board" id="deals-board-view">
    ${page.next_cursor && html`<p class="muted small">${t("deals.boardLimit", { n: BOARD_LIMIT })}</p>`}
    <div class="board-cols">
      ${stages.map((s) => {
        const cards = deals.filter((d) => d.stage_id === s.id);
        return html`<section class=${"stage-col" + (over === s.id ? " over" : "")} data-stage=${s.id} ...${zone(s.id)}>
          <header class="stage-head"><b title=${s.name}>${s.name}</b><span class="muted small stage-sum">${sumsText(page.sums.filter((x) => x.stage_id === s.id && x.status === "open"))}</span></header>
          ${cards.map((d) => html`<${Card} key=${d.id} d=${d} stages=${stages} move=${move} seesAll=${seesAll} closing=${closing?.id === d.id ? closing.mode : ""} setClosing=${setClosing} reload=${reload} />`)}
          ${cards.length === 0 && html`<p class="muted small empty-col">${t("deals.emptyStage")}</p>`}
        </section>`;
      })}
    </div>
    <div class="board-ends">
      <div class=${"end-zone won" + (over === "won" ? " over" : "")} id="drop-won" ...${zone("won")}>${t("deals.dropWon")}</div>
      <div class=${"end-zone lost" + (over === "lost" ? " over" : "")} id="drop-lost" ...${zone("lost")}>${t("deals.dropLost")}</div>
    </div>
  </div>`;
}

// Card is one deal. On a phone, where dragging is awkward, its stage is
// also a select.
function Card({ d, stages, move, seesAll, closing, setClosing, reload }) {
  const open = (e) => {
    e.preventDefault();
    go({ page: "deals", dealId: d.id });
  };
  return html`<article
    class="deal-card"
    draggable="true"
    data-deal=${d.id}
    onDragStart=${(e) => {
      e.dataTransfer.setData("text/plain", String(d.id));
      e.dataTransfer.effectAllowed = "move";
    }}
  >
    <a class="deal-title" href=${"/deals/" + d.id} onClick=${open}>${d.title || t("deal.untitled", { id: d.id })}</a>
    <div class="small">${d.contact_name || html`<span class="muted">${t("deals.noName")}</span>`}</div>
    <div class="deal-card-facts small muted">
      ${d.amount > 0 && html`<span class="amount">${money(d.amount, d.currency)}</span>`}
      <span class="age" title=${t("deals.age")}>${elapsed(d.created_at, t)}</span>
      ${d.source_name && html`<span class="src">${d.source_name}</span>`}
    </div>
    ${seesAll && html`<div class="small muted resp">${d.responsible_id ? userName(d.responsible_id) : t("deals.nobody")}</div>`}
    <select class="card-stage" aria-label=${t("deal.stage")} value=${d.stage_id} onChange=${(e) => move(d.id, Number(e.target.value))}>
      ${stages.map((s) => html`<option value=${s.id}>${s.name}</option>`)}
    </select>
    ${closing
      ? html`<${CloseForm} d=${d} mode=${closing} done=${(ok) => (setClosing(null), ok && reload())} />`
      : html`<div class="deal-card-actions">
          <button type="button" class="link small won-btn" onClick=${() => setClosing({ id: d.id, mode: "won" })}>${t("deal.won")}</button>
          <button type="button" class="link small lost-btn" onClick=${() => setClosing({ id: d.id, mode: "lost" })}>${t("deal.lost")}</button>
        </div>`}
  </article>`;
}
