// Password: the user's own password change, from their name in the top
// bar. The current password is required; other sessions end.
import { useState } from "preact/hooks";
import { html } from "../core/html.js";
import { post } from "../core/api.js";
import { t } from "../core/i18n.js";
import { toast } from "../core/store.js";

// forced: the password was generated (first login, or reset by the owner):
// the user must choose their own before going on.
export function Password({ done, forced = false }) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    if (f.get("new_password") !== f.get("again")) {
      setError(t("password.mismatch"));
      return;
    }
    setBusy(true);
    try {
      await post("/api/v1/me/password", { current_password: f.get("current_password"), new_password: f.get("new_password") });
      toast("ok", t("password.changed"));
      done();
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="card password-form" id="password-form" onSubmit=${submit}>
    <h2>${t("password.title")}</h2>
    ${forced && html`<p class="notice" id="password-must">${t("password.mustChange")}</p>`}
    <label>${t("password.current")}<input name="current_password" type="password" autocomplete="current-password" required autofocus /></label>
    <label>${t("password.new")}<input name="new_password" type="password" autocomplete="new-password" minlength="8" maxlength="72" required /></label>
    <label>${t("password.again")}<input name="again" type="password" autocomplete="new-password" minlength="8" maxlength="72" required /></label>
    <p class="muted small">${t("password.hint")}</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <div class="row">
      <button type="submit" class="primary" disabled=${busy}>${t("password.save")}</button>
      ${!forced && html`<button type="button" class="ghost" onClick=${done}>${t("common.cancel")}</button>`}
    </div>
  </form>`;
}
