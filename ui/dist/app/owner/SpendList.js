// SpendList: a source's spend entries, newest period first: the latest
// four, or all of them on request; each corrected or deleted in place
// (the days it spread over follow, see PUT/DELETE /api/v1/spend/{id}).
import { useState } from "preact/hooks";
import { html } from "../core/html.js";
import { api } from "../core/api.js";
import { t } from "../core/i18n.js";
import { money, parseMoney, fractionDigits } from "../core/format.js";
import { toast } from "../core/store.js";

const SHOWN = 4;

// spendDay is a period bound as the reader writes dates.
export function spendDay(iso) {
  if (!iso) return "";
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  return new Date(y, m - 1, d).toLocaleDateString(document.documentElement.lang || undefined);
}

// monthBounds are the first and last day of a month input's value (YYYY-MM).
export function monthBounds(month) {
  const [y, m] = month.split("-").map(Number);
  const last = new Date(y, m, 0).getDate();
  return { from: `${month}-01`, to: `${month}-${String(last).padStart(2, "0")}` };
}

export function SpendList({ spend, done }) {
  const [all, setAll] = useState(false);
  const [editing, setEditing] = useState(null);
  const shown = all ? spend : spend.slice(0, SHOWN);
  const remove = async (x) => {
    if (!confirm(t("spend.confirmDelete", { amount: money(x.amount, x.currency), from: spendDay(x.period_start), to: spendDay(x.period_end) }))) return;
    try {
      await api("DELETE", `/api/v1/spend/${x.id}`);
      toast("ok", t("spend.deleted"));
      done();
    } catch (e) {
      toast("error", e.message);
    }
  };
  return html`<div class="spend-list">
    ${shown.map((x) =>
      editing === x.id
        ? html`<${SpendEdit} key=${x.id} x=${x} done=${(ok) => (setEditing(null), ok && done())} />`
        : html`<div class="spend-row" data-spend=${x.id}>
            ${spendDay(x.period_start)} — ${spendDay(x.period_end)}: ${money(x.amount, x.currency)}${x.campaign ? " · " + x.campaign : ""}${x.note ? " · " + x.note : ""}
            <button type="button" class="link small spend-edit" title=${t("spend.edit")} aria-label=${t("spend.edit")} onClick=${() => setEditing(x.id)}>✎</button>
            <button type="button" class="link small spend-delete" title=${t("spend.delete")} aria-label=${t("spend.delete")} onClick=${() => remove(x)}>✕</button>
          </div>`,
    )}
    ${spend.length > SHOWN &&
    html`<button type="button" class="link small spend-all" onClick=${() => setAll(!all)}>${all ? t("spend.fewer") : t("spend.all", { n: spend.length })}</button>`}
  </div>`;
}

function SpendEdit({ x, done }) {
  const [error, setError] = useState("");
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const amount = parseMoney(f.get("amount"), x.currency);
    if (amount === null) return setError(t("deal.badAmount"));
    try {
      await api("PUT", `/api/v1/spend/${x.id}`, {
        period_start: f.get("from"), period_end: f.get("to"), amount, currency: x.currency,
        campaign: String(f.get("campaign") || "").trim(), note: String(f.get("note") || ""),
      });
      toast("ok", t("spend.saved"));
      done(true);
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<form class="spend-edit-form" data-spend=${x.id} onSubmit=${submit}>
    <input name="from" type="date" required value=${x.period_start.slice(0, 10)} aria-label=${t("sources.from")} />
    <input name="to" type="date" required value=${x.period_end.slice(0, 10)} aria-label=${t("sources.to")} />
    <input name="amount" inputmode="decimal" required value=${String(x.amount / 10 ** fractionDigits(x.currency))} aria-label=${t("sources.amount")} />
    <input name="campaign" value=${x.campaign} placeholder=${t("sources.campaign")} aria-label=${t("sources.campaign")} />
    <input name="note" value=${x.note} placeholder=${t("sources.note")} aria-label=${t("sources.note")} />
    <button type="submit" class="primary">${t("spend.save")}</button>
    <button type="button" class="ghost" onClick=${() => done(false)}>${t("common.cancel")}</button>
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </form>`;
}
