// Accounts: the channel connections and the live state of each adapter
// (updated by account.state events).
import { html } from "../html.js";
import { t } from "../i18n.js";
import { stamp } from "../format.js";
import { useStore } from "../store.js";
import { ChannelIcon } from "../components/Icons.js";

export function Accounts() {
  const accounts = useStore((s) => s.accounts);
  const states = useStore((s) => s.accountStates);
  return html`<section class="page">
    <h1>${t("nav.accounts")}</h1>
    <p class="muted">${t("accounts.lead")}</p>
    <div class="table-wrap">
      <table class="table" id="accounts-table">
        <thead><tr><th>${t("accounts.channel")}</th><th>${t("accounts.name")}</th><th>${t("accounts.state")}</th><th>${t("accounts.since")}</th><th>${t("accounts.defaultSource")}</th><th>${t("accounts.enabled")}</th></tr></thead>
        <tbody>
          ${accounts.map((a) => {
            const st = states[a.id] || states[String(a.id)];
            return html`<tr data-account=${a.id}>
              <td class="nowrap"><${ChannelIcon} channel=${a.channel} /> ${t("channel." + a.channel)}</td>
              <td>${a.name}</td>
              <td>
                ${st ? html`<span class=${"phase phase-" + st.phase}>${t("phase." + st.phase, {}, st.phase)}</span>` : html`<span class="muted">—</span>`}
                ${st?.total ? html` <small class="muted">${st.done}/${st.total}</small>` : ""}
                ${st?.error && html`<div class=${"small " + (st.phase === "failing" ? "error-text" : "muted")}>${st.error}</div>`}
              </td>
              <td class="nowrap muted">${st ? stamp(st.since) : ""}</td>
              <td>${a.default_source || html`<span class="muted">—</span>`}</td>
              <td>${a.enabled ? t("common.yes") : t("common.no")}</td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>
    ${accounts.length === 0 && html`<p class="empty">${t("accounts.empty")}</p>`}
  </section>`;
}
