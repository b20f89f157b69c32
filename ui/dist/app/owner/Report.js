// Report: the owner's marketing report: spend against what each ad source
// earned, for a period, grouped, under an attribution model and a basis;
// the previous period's figures as deltas; every count opens the contacts
// or deals behind it; the table exports as CSV (audited by the server);
// a chart of spend against revenue and the funnel per source.
import { useState } from "preact/hooks";
import { html } from "../core/html.js";
import { get, qs } from "../core/api.js";
import { t } from "../core/i18n.js";
import { money, number, percent } from "../core/format.js";
import { useLoad } from "./useLoad.js";
import { PRESETS, preset, previous } from "./period.js";
import { SpendRevenueChart, FunnelChart } from "./ReportCharts.js";

// Columns: kind says how a value shows; link, that the count opens a
// list; cost, that more is worse (its delta shows red when it grows).
const COLS = [
  { key: "spend", kind: "money", cost: true },
  { key: "touches", kind: "count" },
  { key: "calls", kind: "count" },
  { key: "missed_calls", kind: "count", cost: true },
  { key: "leads", kind: "count", link: true },
  { key: "deals", kind: "count", link: true },
  { key: "won", kind: "count", link: true },
  { key: "lost", kind: "count", link: true, cost: true },
  { key: "revenue", kind: "money" },
  { key: "profit", kind: "money" },
  { key: "cpl", kind: "money", cost: true },
  { key: "cac", kind: "money", cost: true },
  { key: "romi", kind: "ratio" },
  { key: "conv_lead_deal", kind: "ratio" },
  { key: "conv_deal_won", kind: "ratio" },
];

// sub is a row's value below its source, as the API names it.
const sub = (r) => r.channel ?? (r.entry_point_id != null ? String(r.entry_point_id) : null) ?? r.campaign ?? "";
const rowKey = (r) => `${r.source_id ?? "none"}|${sub(r)}`;

function show(v, kind, currency) {
  if (v === null || v === undefined) return "—";
  if (kind === "money") return money(v, currency);
  if (kind === "ratio") return percent(v);
  return number(v);
}

// Delta: the change since the previous period, when both are known.
function Delta({ col, cur, prev, currency }) {
  if (prev === undefined || prev === null || cur === null || cur === undefined || cur === prev) return null;
  const d = cur - prev;
  const sign = d > 0 ? "+" : "−";
  const abs = Math.abs(d);
  const text = col.kind === "money" ? money(abs, currency) : col.kind === "ratio" ? t("report.pp", { n: (abs * 100).toFixed(1) }) : number(abs);
  const good = col.cost ? d < 0 : d > 0;
  return html`<small class=${"delta " + (good ? "up" : "down")} title=${t("report.prevTitle", { value: show(prev, col.kind, currency) })}>${sign}${text}</small>`;
}

export function Report() {
  const [per, setPer] = useState("month");
  const [range, setRange] = useState(preset("month"));
  const [group, setGroup] = useState("source");
  const [model, setModel] = useState("first");
  const [basis, setBasis] = useState("cohort");
  const [sort, setSort] = useState({ key: "", dir: -1 });
  const [cell, setCell] = useState(null);
  const [funnelOf, setFunnelOf] = useState("total");
  const params = { from: range.from, to: range.to, group, model, basis };
  const { data, error, loading } = useLoad(async () => {
    setCell(null);
    const prev = previous(range);
    const [cur, before, bySource, funnel] = await Promise.all([
      get("/api/v1/reports/sources" + qs(params)),
      get("/api/v1/reports/sources" + qs({ ...params, ...prev })),
      group === "source" ? null : get("/api/v1/reports/sources" + qs({ ...params, group: "source" })),
      get("/api/v1/reports/funnel" + qs({ from: range.from, to: range.to, model, basis })),
    ]);
    return { cur, before, bySource: bySource || cur, funnel, prev };
  }, [range.from, range.to, group, model, basis]);

  const choose = (name) => {
    setPer(name);
    if (name !== "custom") setRange(preset(name));
  };
  return html`<section class="page report">
    <h1>${t("nav.report")}</h1>
    <div class="report-controls card">
      <div class="seg" role="group" aria-label=${t("report.period")}>
        ${PRESETS.map((p) => html`<button type="button" class=${per === p ? "on" : ""} data-preset=${p} onClick=${() => choose(p)}>${t("report.preset." + p)}</button>`)}
      </div>
      <label>${t("sources.from")} <input type="date" id="report-from" value=${range.from} onChange=${(e) => (setPer("custom"), setRange({ ...range, from: e.target.value }))} /></label>
      <label>${t("sources.to")} <input type="date" id="report-to" value=${range.to} onChange=${(e) => (setPer("custom"), setRange({ ...range, to: e.target.value }))} /></label>
      <label>${t("report.group")}
        <select id="report-group" value=${group} onChange=${(e) => setGroup(e.target.value)}>
          ${["source", "channel", "entry_point", "campaign"].map((g) => html`<option value=${g}>${t("report.group." + g)}</option>`)}
        </select>
      </label>
      <label>${t("report.model")}
        <select id="report-model" value=${model} onChange=${(e) => setModel(e.target.value)}>
          ${["first", "last"].map((m) => html`<option value=${m}>${t("report.model." + m)}</option>`)}
        </select>
      </label>
      <label>${t("report.basis")}
        <select id="report-basis" value=${basis} onChange=${(e) => setBasis(e.target.value)}>
          ${["cohort", "sales"].map((b) => html`<option value=${b}>${t("report.basis." + b)}</option>`)}
        </select>
      </label>
      <a class="button" id="report-export" href=${"/api/v1/reports/sources/export.csv" + qs(params)} download>${t("report.export")}</a>
    </div>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${!data && !error && html`<p class="muted">${t("common.loading")}</p>`}
    ${data &&
    html`<p class="muted small" id="report-says">
        ${t("report.says", { from: data.cur.from, to: data.cur.to, tz: data.cur.time_zone, prevFrom: data.prev.from, prevTo: data.prev.to })}
        ${" "}${t("report.basisSays." + data.cur.basis)} ${t("report.modelSays." + data.cur.model)}${loading ? " …" : ""}
      </p>
      <${Table} rep=${data.cur} before=${data.before} sort=${sort} setSort=${setSort} open=${setCell} />
      ${cell && html`<${Items} params=${params} cell=${cell} close=${() => setCell(null)} />`}
      <h2>${t("report.chartTitle")}</h2>
      <${SpendRevenueChart} rows=${data.bySource.rows} currency=${data.cur.currency} />
      <h2>${t("report.funnel")}</h2>
      <${Funnels} data=${data.funnel} of=${funnelOf} setOf=${setFunnelOf} />`}
  </section>`;
}

function Table({ rep, before, sort, setSort, open }) {
  const prev = Object.fromEntries(before.rows.map((r) => [rowKey(r), r]));
  const rows = [...rep.rows];
  if (sort.key) {
    const v = (r) => (sort.key === "source" ? r.source.toLowerCase() : (r[sort.key] ?? -Infinity));
    rows.sort((a, b) => (v(a) < v(b) ? -sort.dir : v(a) > v(b) ? sort.dir : 0));
  }
  const head = (key, label, num) => {
    const on = sort.key === key;
    return html`<th class=${num ? "num" : ""} aria-sort=${on ? (sort.dir > 0 ? "ascending" : "descending") : "none"}>
      <button type="button" class="link sort" data-sort=${key} onClick=${() => setSort({ key, dir: on ? -sort.dir : key === "source" ? 1 : -1 })}>${label}${on ? (sort.dir > 0 ? " ▲" : " ▼") : ""}</button>
    </th>`;
  };
  const line = (r, kind, prevRow) => {
    const source = kind === "total" ? "total" : r.source_id == null ? "none" : String(r.source_id);
    const losing = r.profit !== null && r.profit < 0;
    return html`<tr class=${["kind-" + kind, losing ? "losing" : ""].join(" ")} data-source=${source}>
      <td class="nowrap">
        ${kind === "total" ? html`<b>${t("report.total")}</b>` : kind === "none" ? html`<i>${t("report.noSource")}</i>` : r.source}
        ${sub(r) !== "" && html` <small class="muted">· ${r.entry_point ?? (r.channel ? t("channel." + r.channel) : r.campaign)}</small>`}
        ${r.campaign === "" && kind === "row" && html` <small class="muted">· ${t("report.noCampaign")}</small>`}
        ${r.vat_included && html` <small class="badge" title=${t("report.vatTitle")}>${t("report.vat")}</small>`}
        ${losing && html` <small class="badge bad">${t("report.losing")}</small>`}
      </td>
      ${COLS.map((c) => {
        const v = r[c.key];
        const text = show(v, c.kind, rep.currency);
        const body =
          c.link && v > 0
            ? html`<button type="button" class="link cell-link" data-metric=${c.key} onClick=${() => open({ source, sub: kind === "row" ? sub(r) : "", metric: c.key, label: r.source || t("report." + (kind === "total" ? "total" : "noSource")) })}>${text}</button>`
            : text;
        return html`<td class=${"num " + c.key}>${body}${prevRow && html`<br /><${Delta} col=${c} cur=${v} prev=${prevRow[c.key]} currency=${rep.currency} />`}</td>`;
      })}
    </tr>`;
  };
  return html`<div class="table-wrap">
    <table class="table report-table" id="report-table">
      <thead><tr>${head("source", t("report.col.source"), false)}${COLS.map((c) => head(c.key, t("report.col." + c.key), true))}</tr></thead>
      <tbody>
        ${rows.map((r) => line(r, "row", prev[rowKey(r)]))}
        ${line(rep.no_source, "none", before.no_source)}
      </tbody>
      <tfoot>${line(rep.total, "total", before.total)}</tfoot>
    </table>
  </div>`;
}

// Items: the contacts or deals behind a count.
function Items({ params, cell, close }) {
  const { data, error } = useLoad(
    () => get("/api/v1/reports/sources/items" + qs({ ...params, source: cell.source, sub: cell.sub, metric: cell.metric })),
    [cell.source, cell.sub, cell.metric],
  );
  return html`<section class="card report-items" id="report-items">
    <header>
      <h3>${t("report.behind", { metric: t("report.col." + cell.metric), source: cell.label })}</h3>
      <button type="button" class="ghost" onClick=${close}>${t("common.close")}</button>
    </header>
    ${error && html`<p class="error">${error}</p>`}
    ${!data && !error && html`<p class="muted">${t("common.loading")}</p>`}
    ${data && data.total > data.contacts.length + data.deals.length && html`<p class="muted small">${t("report.firstOf", { n: data.contacts.length + data.deals.length, total: data.total })}</p>`}
    ${data &&
    (cell.metric === "leads"
      ? html`<ol class="items">${data.contacts.map((c) => html`<li data-contact=${c.id}>${c.name || t("common.noName")} <small class="muted">#${c.id}</small></li>`)}</ol>`
      : html`<ol class="items">
          ${data.deals.map((d) => html`<li data-deal=${d.id}>${d.title || "#" + d.id} <small class="muted">${t("report.dealStatus." + d.status)}${d.status === "won" ? " · " + money(d.amount, d.currency) : ""}${d.lost_reason ? " · " + d.lost_reason : ""}</small></li>`)}
        </ol>`)}
  </section>`;
}

function Funnels({ data, of, setOf }) {
  const all = [{ key: "total", label: t("report.total"), f: data.total }, ...data.funnels.map((f) => ({ key: String(f.source_id), label: f.source, f })), { key: "none", label: t("report.noSource"), f: data.no_source }];
  const cur = all.find((x) => x.key === of) || all[0];
  return html`<div class="funnels">
    <label>${t("report.funnelOf")}
      <select id="funnel-source" value=${cur.key} onChange=${(e) => setOf(e.target.value)}>${all.map((x) => html`<option value=${x.key}>${x.label}</option>`)}</select>
    </label>
    <${FunnelChart} funnel=${cur.f} />
  </div>`;
}
