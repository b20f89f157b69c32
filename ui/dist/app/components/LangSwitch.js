import { html } from "../core/html.js";
import { useStore } from "../core/store.js";
import { setLang } from "../core/session.js";

export function LangSwitch() {
  const lang = useStore((s) => s.lang);
  return html`<div class="lang" role="group" aria-label="Language / Язык">
    ${["ru", "en"].map(
      (l) => html`<button type="button" class=${l === lang ? "on" : ""} aria-pressed=${l === lang} onClick=${() => setLang(l)}>${l.toUpperCase()}</button>`,
    )}
  </div>`;
}
