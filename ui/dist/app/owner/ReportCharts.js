// ReportCharts: the report's two pictures, drawn as inline SVG by us (no
// chart library): spend against revenue per source, and a source's funnel
// with the share lost at each step.
import { html } from "../core/html.js";
import { t } from "../core/i18n.js";
import { money, number, percent } from "../core/format.js";

const W = 720;
const LABEL = 170;
const VALUE = 110;

// SpendRevenueChart: two bars a source, spend and revenue, on one scale.
export function SpendRevenueChart({ rows, currency }) {
  if (!rows.length) return null;
  const max = Math.max(1, ...rows.flatMap((r) => [r.spend || 0, r.revenue]));
  const bar = 12;
  const rowH = 2 * bar + 14;
  const plot = W - LABEL - VALUE;
  const h = rows.length * rowH + 26;
  const width = (v) => Math.max(v > 0 ? 1 : 0, Math.round(((v || 0) / max) * plot));
  return html`<figure class="chart" id="report-chart">
    <svg viewBox=${`0 0 ${W} ${h}`} width="100%" role="img" aria-label=${t("report.chartTitle")}>
      <g class="legend" transform=${`translate(${LABEL},12)`}>
        <rect class="bar-spend" width="10" height="10" y="-9" /><text x="14">${t("report.col.spend")}</text>
        <rect class="bar-revenue" x="120" width="10" height="10" y="-9" /><text x="134">${t("report.col.revenue")}</text>
      </g>
      ${rows.map((r, i) => {
        const y = 22 + i * rowH;
        const losing = r.profit !== null && r.profit < 0;
        return html`<g class=${"chart-row" + (losing ? " losing" : "")} data-source=${r.source_id}>
          <text x=${LABEL - 8} y=${y + bar + 4} text-anchor="end" class="chart-label">${clip(r.source)}</text>
          <rect class="bar-spend" x=${LABEL} y=${y} width=${width(r.spend)} height=${bar}><title>${t("report.col.spend")}: ${money(r.spend || 0, currency)}</title></rect>
          <text x=${LABEL + width(r.spend) + 4} y=${y + bar - 2} class="chart-value">${money(r.spend || 0, currency)}</text>
          <rect class="bar-revenue" x=${LABEL} y=${y + bar + 2} width=${width(r.revenue)} height=${bar}><title>${t("report.col.revenue")}: ${money(r.revenue, currency)}</title></rect>
          <text x=${LABEL + width(r.revenue) + 4} y=${y + 2 * bar} class="chart-value">${money(r.revenue, currency)}</text>
        </g>`;
      })}
    </svg>
    <figcaption class="muted small">${t("report.chartTitle")}</figcaption>
  </figure>`;
}

function clip(s) {
  return s.length > 24 ? s.slice(0, 23) + "…" : s;
}

// stepName is a funnel step's label: the fixed steps are translated, the
// pipeline's stages keep their names.
function stepName(s) {
  return s.stage_id ? s.name : t("report.step." + s.name);
}

// FunnelChart: one bar a step, its width the step's count; beside it how
// many of the step before were lost and their share.
export function FunnelChart({ funnel }) {
  const steps = funnel.steps;
  const max = Math.max(1, ...steps.map((s) => s.count));
  const rowH = 28;
  const plot = W - LABEL - 190;
  const h = steps.length * rowH + 8;
  return html`<figure class="chart funnel" id="report-funnel">
    <svg viewBox=${`0 0 ${W} ${h}`} width="100%" role="img" aria-label=${t("report.funnel")}>
      ${steps.map((s, i) => {
        const w = Math.max(s.count > 0 ? 2 : 0, Math.round((s.count / max) * plot));
        const y = 4 + i * rowH;
        return html`<g class="funnel-step">
          <text x=${LABEL - 8} y=${y + 15} text-anchor="end" class="chart-label">${stepName(s)}</text>
          <rect class="bar-funnel" x=${LABEL + (plot - w) / 2} y=${y} width=${w} height=${rowH - 6} rx="3" />
          <text x=${LABEL + plot + 8} y=${y + 15} class="chart-value">${number(s.count)}${i > 0 && s.lost > 0
              ? html` <tspan class="lost">−${number(s.lost)} (${s.lost_share === null ? "—" : percent(s.lost_share)})</tspan>`
              : ""}</text>
        </g>`;
      })}
    </svg>
    ${funnel.lost_reasons.length > 0 &&
    html`<div class="lost-reasons small"><b>${t("report.lostReasons")}:</b> ${funnel.lost_reasons.map((r) => html`<span class="reason">${r.reason} — ${number(r.count)}</span>`)}</div>`}
  </figure>`;
}
