// Unreadable: mail whose sender could not be read (no usable From, Sender,
// Reply-To or Return-Path). It belongs to no contact, opens no deal and
// cannot be answered; the owner sees when and where it came, its subject,
// what was wrong in plain words, and downloads the original (.eml).
import { html } from "../core/html.js";
import { t } from "../core/i18n.js";
import { stamp } from "../core/format.js";
import { get } from "../core/api.js";
import { useLoad } from "./useLoad.js";

export function Unreadable() {
  const { data, error, loading } = useLoad(() => get("/api/v1/unreadable"));
  const rows = data?.mail || [];
  return html`<section class="page">
    <h1>${t("unreadable.title")}</h1>
    <p class="muted">${t("unreadable.lead")}</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <div class="table-wrap">
      <table class="table" id="unreadable-table">
        <thead><tr><th>${t("unreadable.at")}</th><th>${t("unreadable.mailbox")}</th><th>${t("unreadable.subject")}</th><th>${t("unreadable.problem")}</th><th></th></tr></thead>
        <tbody>
          ${rows.map(
            (m) => html`<tr data-unreadable=${m.id}>
              <td class="nowrap">${stamp(m.received_at)}</td>
              <td class="nowrap">${m.account_name}${m.folder && m.folder !== "INBOX" ? html` <span class="muted small">${m.folder}</span>` : ""}</td>
              <td>${m.subject || html`<span class="muted">${t("unreadable.noSubject")}</span>`}</td>
              <td class="problem" data-problem=${m.problem}>${t("unreadable.problem." + m.problem, {}, "") || t("parse." + m.problem, {}, m.detail)}</td>
              <td class="nowrap">${m.raw_size > 0
                ? html`<a class="download" href=${"/api/v1/unreadable/" + m.id + "/raw"} download>${t("unreadable.download")}</a>`
                : html`<span class="muted small">${t("unreadable.noOriginal")}</span>`}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
    ${!loading && !error && rows.length === 0 && html`<p class="empty">${t("unreadable.empty")}</p>`}
  </section>`;
}
