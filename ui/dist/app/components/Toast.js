import { html } from "../core/html.js";
import { useStore } from "../core/store.js";

export function Toast() {
  const toast = useStore((s) => s.toast);
  if (!toast) return null;
  return html`<div class=${"toast " + toast.kind} role=${toast.kind === "error" ? "alert" : "status"}>${toast.text}</div>`;
}
