// Files: a touch's attachments. Pictures show as thumbnails and sounds
// (voice notes, call recordings kept as files) as players, both loaded
// from our own origin (?inline=1 serves only what the bytes confirm);
// anything else is a download link with its size.
import { html } from "../core/html.js";
import { t } from "../core/i18n.js";
import { bytes } from "../core/format.js";
import { Icon } from "../components/Icons.js";

const PICTURE = /^image\/(png|jpeg|gif|webp|bmp)$/;

export function Files({ files, call }) {
  if (!files.length) return null;
  return html`<ul class="files">
    ${files.map((f) => {
      const url = "/api/v1/attachments/" + f.id;
      if (!f.stored) return html`<li><span class="muted"><${Icon} name="clip" /> ${f.name} — ${t("touch.notKept")}</span> <small class="muted">${bytes(f.size)}</small></li>`;
      const download = html`<a href=${url} download=${f.name}><${Icon} name="clip" /> ${f.name}</a> <small class="muted">${bytes(f.size)}</small>`;
      if (PICTURE.test(f.content_type))
        return html`<li class="file-picture">
          <a class="thumb" href=${url + "?inline=1"} target="_blank" rel="noopener" title=${f.name}>
            <img src=${url + "?inline=1"} alt=${f.name} loading="lazy" />
          </a>
          <div>${download}</div>
        </li>`;
      if (f.content_type.startsWith("audio/"))
        return html`<li class="file-audio">
          ${call && html`<span class="muted small">${t("touch.recording")}</span>`}
          <audio controls preload="none" src=${url + "?inline=1"}></audio>
          <div>${download}</div>
        </li>`;
      return html`<li>${download}</li>`;
    })}
  </ul>`;
}
