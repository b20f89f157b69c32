// KeysHelp: the inbox's keyboard shortcuts, shown on "?" (again, Esc or
// the button closes it).
import { html } from "../core/html.js";
import { useStore, setState } from "../core/store.js";
import { t } from "../core/i18n.js";

const KEYS = [
  ["j / k", "keys.move"],
  ["r", "keys.reply"],
  ["a", "keys.assign"],
  ["e", "keys.close"],
  ["s", "keys.snooze"],
  ["/", "keys.search"],
  ["?", "keys.help"],
  ["Esc", "keys.leave"],
];

export function KeysHelp() {
  const open = useStore((s) => s.keysHelp);
  if (!open) return null;
  return html`<div class="keys-help card" id="keys-help" role="dialog" aria-label=${t("keys.title")}>
    <h2>${t("keys.title")}</h2>
    <table>
      ${KEYS.map(([k, label]) => html`<tr><td><kbd>${k}</kbd></td><td>${t(label)}</td></tr>`)}
    </table>
    <p class="muted small">${t("keys.anyLayout")}</p>
    <button type="button" class="ghost" onClick=${() => setState({ keysHelp: false })}>${t("common.close")}</button>
  </div>`;
}
