// DealsPage: the pipeline. /deals is a board of the open stages (drag a
// card to another stage, or onto Won / Lost; won and lost also from the
// card) or a list of every deal with totals, filtered by manager, source,
// period and status; /deals/<id> is one deal with its touches across
// channels. Owners and leads see every deal, managers their own: the API
// decides, the page only asks.
import { useState } from "preact/hooks";
import { html } from "../core/html.js";
import { get, qs } from "../core/api.js";
import { t } from "../core/i18n.js";
import { useStore } from "../core/store.js";
import { useLoad } from "../owner/useLoad.js";
import { Board, BOARD_LIMIT } from "./Board.js";
import { DealList } from "./DealList.js";
import { DealView } from "./DealView.js";

export function DealsPage({ dealId }) {
  useStore((s) => s.lang);
  return html`<main class="owner deals-page" id="deals">${dealId ? html`<${DealView} id=${dealId} />` : html`<${Deals} />`}</main>`;
}

function Deals() {
  const me = useStore((s) => s.me.user);
  const users = useStore((s) => s.users);
  const [view, setViewState] = useState(localStorage.getItem("deals.view") === "list" ? "list" : "board");
  const [f, setF] = useState({ responsible_id: "", source: "", status: "", created_from: "", created_to: "" });
  const setView = (v) => {
    localStorage.setItem("deals.view", v);
    setViewState(v);
  };
  const query = { ...f, status: view === "board" ? "open" : f.status };
  const { data, error, loading, reload } = useLoad(() => get("/api/v1/deals" + qs({ ...query, limit: view === "board" ? BOARD_LIMIT : 50 })), [JSON.stringify(query), view]);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const seesAll = me.role !== "manager";
  return html`<section class="page page-wide">
    <div class="page-head">
      <h1>${t("nav.deals")}</h1>
      <div class="seg" role="group" aria-label=${t("deals.view")}>
        <button type="button" id="deals-board" class=${view === "board" ? "on" : ""} onClick=${() => setView("board")}>${t("deals.board")}</button>
        <button type="button" id="deals-list" class=${view === "list" ? "on" : ""} onClick=${() => setView("list")}>${t("deals.list")}</button>
      </div>
    </div>
    <p class="muted">${seesAll ? t("deals.leadAll") : t("deals.leadMine")}</p>
    <form class="filters" id="deals-filters" onSubmit=${(e) => e.preventDefault()}>
      ${seesAll &&
      html`<select id="deals-responsible" aria-label=${t("panel.responsible")} value=${f.responsible_id} onChange=${set("responsible_id")}>
        <option value="">${t("contacts.anyResponsible")}</option>
        ${users.filter((u) => u.active !== false).map((u) => html`<option value=${u.id}>${u.name || u.email}</option>`)}
      </select>`}
      <select id="deals-source" aria-label=${t("touch.source")} value=${f.source} onChange=${set("source")}>
        <option value="">${t("deals.anySource")}</option>
        <option value="none">${t("deals.noSource")}</option>
        ${(data?.sources || []).map((s) => html`<option value=${s.id}>${s.name}</option>`)}
      </select>
      ${view === "list" &&
      html`<select id="deals-status" aria-label=${t("deals.status")} value=${f.status} onChange=${set("status")}>
        <option value="">${t("deals.anyStatus")}</option>
        ${["open", "won", "lost"].map((s) => html`<option value=${s}>${t("deals.status." + s)}</option>`)}
      </select>`}
      <label class="small muted">${t("deals.createdFrom")} <input type="date" id="deals-from" value=${f.created_from} onChange=${set("created_from")} /></label>
      <label class="small muted">${t("deals.createdTo")} <input type="date" id="deals-to" value=${f.created_to} onChange=${set("created_to")} /></label>
    </form>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${data &&
    (view === "board"
      ? html`<${Board} page=${data} seesAll=${seesAll} reload=${reload} />`
      : html`<${DealList} first=${data} query=${query} seesAll=${seesAll} />`)}
    ${!data && loading && html`<p class="muted">${t("common.loading")}</p>`}
  </section>`;
}
