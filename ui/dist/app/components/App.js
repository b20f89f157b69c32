// App: the splash while the session is checked, the login, or the shell.
import { useEffect } from "preact/hooks";
import { html } from "../core/html.js";
import { useStore } from "../core/store.js";
import { Login } from "./Login.js";
import { Shell } from "./Shell.js";
import { Toast } from "./Toast.js";

export function App() {
  const lang = useStore((s) => s.lang);
  const me = useStore((s) => s.me);
  const booting = useStore((s) => s.booting);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  return html`
    ${booting ? html`<div class="splash">Switchboard</div>` : me ? html`<${Shell} />` : html`<${Login} />`}
    <${Toast} />
  `;
}
