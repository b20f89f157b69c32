// Users: who may log in, their role and export right; new users.
import { useState } from "preact/hooks";
import { html } from "../core/html.js";
import { patch, post } from "../core/api.js";
import { t } from "../core/i18n.js";
import { stamp } from "../core/format.js";
import { useStore, toast } from "../core/store.js";
import { loadRefs } from "../core/session.js";

const ROLES = ["manager", "lead", "owner"];

export function Users() {
  const users = useStore((s) => s.users);
  const me = useStore((s) => s.me.user);
  const change = async (u, body) => {
    try {
      await patch(`/api/v1/users/${u.id}`, body);
      toast("ok", t("users.saved"));
    } catch (e) {
      toast("error", e.message);
    }
    loadRefs();
  };
  const [issued, setIssued] = useState(null); // {user, password}: shown once
  const reset = async (u) => {
    if (!confirm(t("users.resetConfirm", { name: u.name || u.email }))) return;
    try {
      const r = await post(`/api/v1/users/${u.id}/reset-password`, {});
      setIssued({ user: u, password: r.password });
    } catch (e) {
      toast("error", e.message);
    }
  };
  return html`<section class="page">
    <h1>${t("nav.users")}</h1>
    ${issued &&
    html`<div class="card issued" id="password-issued">
      <p>${t("users.issued", { name: issued.user.name || issued.user.email })}</p>
      <p><code class="one-time">${issued.password}</code></p>
      <p class="muted small">${t("users.issuedHint")}</p>
      <button type="button" class="ghost" onClick=${() => setIssued(null)}>${t("common.close")}</button>
    </div>`}
    <div class="table-wrap">
      <table class="table" id="users-table">
        <thead><tr><th>${t("users.name")}</th><th>Email</th><th>${t("users.role")}</th><th>${t("users.extension")}</th><th>${t("users.export")}</th><th>${t("users.active")}</th><th>${t("users.created")}</th><th></th></tr></thead>
        <tbody>
          ${users.map(
            (u) => html`<tr class=${u.active ? "" : "inactive"}>
              <td>${u.name}</td>
              <td>${u.email}</td>
              <td>
                <select aria-label=${t("users.role")} value=${u.role} disabled=${u.id === me.id} onChange=${(e) => change(u, { role: e.target.value })}>
                  ${ROLES.map((r) => html`<option value=${r}>${t("role." + r)}</option>`)}
                </select>
              </td>
              <td>
                <input class="ext" inputmode="numeric" size="6" maxlength="10" aria-label=${t("users.extension")} title=${t("users.extensionHint")}
                  value=${u.extension || ""} onChange=${(e) => change(u, { extension: e.target.value.trim() })} />
              </td>
              <td><input type="checkbox" aria-label=${t("users.export")} checked=${u.can_export} disabled=${u.role === "owner"} onChange=${(e) => change(u, { can_export: e.target.checked })} /></td>
              <td><input type="checkbox" aria-label=${t("users.active")} checked=${u.active} disabled=${u.id === me.id} onChange=${(e) => change(u, { active: e.target.checked })} /></td>
              <td class="nowrap muted">${stamp(u.created_at)}</td>
              <td>${u.id !== me.id && html`<button type="button" class="link small reset-password" onClick=${() => reset(u)}>${t("users.reset")}</button>`}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
    <${NewUser} />
  </section>`;
}

function NewUser() {
  const [error, setError] = useState("");
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      await post("/api/v1/users", { email: f.get("email"), name: f.get("name"), role: f.get("role"), password: f.get("password") });
      e.target.reset();
      setError("");
      toast("ok", t("users.created_ok"));
      loadRefs();
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<form class="card inline-form" onSubmit=${submit}>
    <h2>${t("users.new")}</h2>
    <input name="name" placeholder=${t("users.name")} required />
    <input name="email" type="email" placeholder="Email" required autocomplete="off" />
    <select name="role">${ROLES.map((r) => html`<option value=${r}>${t("role." + r)}</option>`)}</select>
    <input name="password" type="password" placeholder=${t("users.password")} minlength="8" required autocomplete="new-password" />
    <button type="submit" class="primary">${t("users.add")}</button>
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </form>`;
}
