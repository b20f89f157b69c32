// EmailFrame shows an email's HTML in <iframe sandbox srcdoc>: an empty
// sandbox (no allow-scripts, no allow-same-origin) runs no script, submits
// no form, opens no popup and gets an opaque origin; the page's CSP, which
// a srcdoc frame inherits, and the frame's own CSP load nothing remote.
// The frame is built by hand so that sandbox is set before srcdoc.
import { useEffect, useRef } from "preact/hooks";
import { html } from "../core/html.js";

const HEAD =
  '<!doctype html><html><head><meta charset="utf-8">' +
  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:\">" +
  '<base target="_blank">' +
  "<style>body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1d2433;margin:10px;overflow-wrap:anywhere}img{max-width:100%;height:auto}table{max-width:100%}</style>" +
  "</head><body>";

export function EmailFrame({ source }) {
  const box = useRef(null);
  useEffect(() => {
    const f = document.createElement("iframe");
    f.setAttribute("sandbox", "");
    f.setAttribute("referrerpolicy", "no-referrer");
    f.setAttribute("title", "email");
    f.className = "email-frame";
    f.onload = () => f.setAttribute("data-loaded", "");
    f.srcdoc = HEAD + source + "</body></html>";
    box.current.replaceChildren(f);
  }, [source]);
  return html`<div class="email" ref=${box}></div>`;
}
