// Handle: an identity as people read it, a phone with the extension last
// said with it ("+7 383 234-90-96 доб. 45"): the number is what is
// dialled, the extension what to ask for once through.
import { html } from "../core/html.js";
import { t } from "../core/i18n.js";
import { handle } from "../core/format.js";

export function Handle({ identity: i }) {
  return html`<span>${handle(i.kind, i.value)}</span>${extText(i) && html` <span class="phone-ext" data-phone-ext=${i.ext}>${extText(i)}</span>`}`;
}

// extText is the extension of a phone identity in words ("доб. 45"), or "".
export function extText(i) {
  return i.kind === "phone" && i.ext ? t("touch.phoneExt", { ext: i.ext }) : "";
}
