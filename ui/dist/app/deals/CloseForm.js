// CloseForm marks a deal won (with its amount) or lost (with a reason).
import { useState } from "preact/hooks";
import { html } from "../core/html.js";
import { post } from "../core/api.js";
import { t } from "../core/i18n.js";
import { parseMoney, fractionDigits } from "../core/format.js";
import { toast } from "../core/store.js";

export function CloseForm({ d, mode, done }) {
  const [value, setValue] = useState(mode === "won" && d.amount > 0 ? String(d.amount / 10 ** fractionDigits(d.currency)) : "");
  const [error, setError] = useState("");
  const submit = async (e) => {
    e.preventDefault();
    let body;
    if (mode === "won") {
      const amount = parseMoney(value, d.currency);
      if (!amount) return setError(t("deal.badAmount"));
      body = { amount };
    } else {
      if (!value.trim()) return setError(t("deal.needReason"));
      body = { reason: value.trim() };
    }
    try {
      await post(`/api/v1/deals/${d.id}/${mode}`, body);
      toast("ok", t(mode === "won" ? "toast.won" : "toast.lost"));
      done(true);
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<form class="deal-close" onSubmit=${submit}>
    <input
      autofocus
      class=${mode === "won" ? "won-amount" : "lost-reason"}
      inputmode=${mode === "won" ? "decimal" : "text"}
      aria-label=${mode === "won" ? t("deal.amount", { cur: d.currency }) : t("deal.reasonPh")}
      placeholder=${mode === "won" ? t("deal.amount", { cur: d.currency }) : t("deal.reasonPh")}
      value=${value}
      onInput=${(e) => setValue(e.target.value)}
    />
    <button type="submit" class="primary">${mode === "won" ? t("deal.markWon") : t("deal.markLost")}</button>
    <button type="button" class="ghost" onClick=${() => done(false)}>${t("common.cancel")}</button>
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </form>`;
}
