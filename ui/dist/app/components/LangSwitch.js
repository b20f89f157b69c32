import { html } from "../html.js";
import { useStore } from "../store.js";
import { setLang } from "../session.js";

export function LangSwitch() {
  const lang = useStore((s) => s.lang);
  return html`<div class="lang" role="group" aria-label="Language / Язык">
    ${["ru", "en"].map(
      (l) => html`<button type="button" class=${l === lang ? "on" : ""} aria-pressed=${l === lang} onClick=${() => setLang(l)}>${l.toUpperCase()}</button>`,
    )}
  </div>`;
}
