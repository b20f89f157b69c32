// Handle: an identity as people read it, a phone with the extension last
// said with it ("+7 383 234-90-96 доб. 45"): the number is what is
// dialled, the extension what to ask for once through.
import { html } from "../core/html.js";
import { t } from "../core/i18n.js";
import { handle } from "../core/format.js";

export function Handle({ identity: i }) {
  // A phone and its extension stay on one line; an email may break.
  return html`<span class=${i.kind === "phone" ? "nowrap" : ""}>${handle(i.kind, i.value)}${extText(i) && html` <span class="phone-ext" data-phone-ext=${i.ext}>${extText(i)}</span>`}</span>`;
}

// extText is the extension of a phone identity in words ("доб. 45"), or "".
export function extText(i) {
  return i.kind === "phone" && i.ext ? t("touch.phoneExt", { ext: i.ext }) : "";
}
