// DealList: the deals the filters select as a table, newest first, a page
// at a time, with totals by status of all of them (not only the rows
// shown).
import { useState } from "preact/hooks";
import { html } from "../core/html.js";
import { get, qs } from "../core/api.js";
import { t } from "../core/i18n.js";
import { money, stamp } from "../core/format.js";
import { userName } from "../core/session.js";
import { useStore, toast } from "../core/store.js";
import { go } from "../inbox/inbox.js";
import { sumsText } from "./Board.js";

export function DealList({ first, query, seesAll }) {
  const stages = useStore((s) => s.stages);
  const [more, setMore] = useState({ deals: [], cursor: null });
  const cursor = more.cursor ?? first.next_cursor;
  const rows = [...first.deals, ...more.deals];
  const loadMore = async () => {
    try {
      const r = await get("/api/v1/deals" + qs({ ...query, limit: 50, cursor }));
      setMore({ deals: [...more.deals, ...r.deals], cursor: r.next_cursor });
    } catch (e) {
      toast("error", e.message);
    }
  };
  const where = (d) => (d.status === "open" ? stages.find((s) => s.id === d.stage_id)?.name || "" : t("deals.status." + d.status));
  return html`<div id="deals-list-view">
    <div class="deal-totals" id="deal-totals">
      ${["open", "won", "lost"].map((st) => {
        const sums = first.sums.filter((s) => s.status === st);
        return html`<span class=${"total " + st} data-status=${st}><b>${t("deals.status." + st)}</b> ${sumsText(sums)}</span>`;
      })}
    </div>
    <div class="table-wrap">
      <table class="table" id="deals-table">
        <thead>
          <tr>
            <th>${t("deals.deal")}</th><th>${t("deals.contact")}</th><th>${t("deal.stage")}</th><th class="num">${t("deals.amount")}</th>
            <th>${t("deals.source")}</th>${seesAll && html`<th>${t("panel.responsible")}</th>`}<th>${t("deals.created")}</th><th>${t("deals.closed")}</th>
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (d) => html`<tr data-deal=${d.id} class=${d.status}>
              <td><a href=${"/deals/" + d.id} onClick=${(e) => (e.preventDefault(), go({ page: "deals", dealId: d.id }))}>${d.title || t("deal.untitled", { id: d.id })}</a></td>
              <td>${d.contact_name}</td>
              <td><span class=${"badge " + d.status}>${where(d)}</span></td>
              <td class="num nowrap">${d.amount > 0 ? money(d.amount, d.currency) : ""}</td>
              <td>${d.source_name || html`<span class="muted">—</span>`}</td>
              ${seesAll && html`<td>${d.responsible_id ? userName(d.responsible_id) : html`<span class="muted">${t("deals.nobody")}</span>`}</td>`}
              <td class="nowrap muted">${stamp(d.created_at)}</td>
              <td class="nowrap muted">${d.closed_at ? stamp(d.closed_at) : ""}</td>
            </tr>`,
          )}
          ${rows.length === 0 && html`<tr><td colspan="8" class="muted">${t("deals.none")}</td></tr>`}
        </tbody>
      </table>
    </div>
    ${cursor && html`<p><button type="button" id="deals-more" onClick=${loadMore}>${t("deals.more")}</button></p>`}
  </div>`;
}
