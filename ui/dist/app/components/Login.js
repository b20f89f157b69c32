// Login: email and password; the API's rate limit and wrong-password
// answers are shown as they come.
import { useState } from "preact/hooks";
import { html } from "../core/html.js";
import { t } from "../core/i18n.js";
import { login } from "../core/session.js";
import { LangSwitch } from "./LangSwitch.js";

export function Login() {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    setBusy(true);
    setError("");
    try {
      await login(String(f.get("email")), String(f.get("password")));
    } catch (err) {
      setError(err.code === "bad_login" ? t("login.bad") : err.code === "rate_limited" ? t("login.limited") : err.message);
      setBusy(false);
    }
  };
  return html`<main class="login-page">
    <form id="login" class="login card" onSubmit=${submit}>
      <div class="login-head">
        <div class="brand"><img src="/favicon.svg" alt="" width="28" height="28" /> Switchboard</div>
        <${LangSwitch} />
      </div>
      <h1>${t("login.title")}</h1>
      <p class="muted">${t("login.lead")}</p>
      <label>${t("login.email")}<input name="email" type="email" autocomplete="username" required autofocus /></label>
      <label>${t("login.password")}<input name="password" type="password" autocomplete="current-password" required /></label>
      <button type="submit" class="primary" disabled=${busy}>${busy ? t("login.busy") : t("login.submit")}</button>
      <p id="login-error" class="error" role="alert">${error}</p>
    </form>
  </main>`;
}
