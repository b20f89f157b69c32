// EmailFrame shows an email's HTML in <iframe sandbox>, loaded from
// /api/v1/touches/{id}/email: an empty sandbox (no allow-scripts, no
// allow-same-origin) runs no script, submits no form, opens no popup and
// gets an opaque origin, and that page's own Content-Security-Policy
// (inbox/api/email.go) says the same and loads pictures only as data:
// URLs: the inline pictures (cid:) the server puts in from the stored
// attachments. Remote images stay blocked (a remote image tells its
// sender the mail was opened, and from where) until the user clicks
// "Show" on the bar above the frame; that loads this message's page again
// with them, for this message only.
// The frame is built by hand so that sandbox is set before src.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../core/html.js";
import { t } from "../core/i18n.js";

// REMOTE_IMG finds an <img> whose source is on another host.
const REMOTE_IMG = /<img\b[^>]*?\ssrc\s*=\s*["']?\s*(?:https?:)?\/\//i;

// hasRemoteImages says whether sanitized email HTML has remote images.
export function hasRemoteImages(source) {
  return REMOTE_IMG.test(source || "");
}

// cidKey is a Content-ID as the server compares it (inbox/emailpage.go):
// no angle brackets, lower case; from a cid: URL, percent-decoded.
function cidKey(id) {
  return id.trim().replace(/^<|>$/g, "").trim().toLowerCase();
}

// shownInline says whether a file is a picture the email's HTML shows
// (cid:): the timeline does not list it again among the files.
export function shownInline(f, source) {
  if (!f.inline || !f.content_id || !f.stored || !source) return false;
  const want = cidKey(f.content_id);
  for (const m of source.matchAll(/\ssrc\s*=\s*["']?\s*cid:([^"'\s>]+)/gi)) {
    let id = m[1].replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
    try {
      id = decodeURIComponent(id);
    } catch {}
    if (cidKey(id) === want) return true;
  }
  return false;
}

export function EmailFrame({ touch }) {
  const box = useRef(null);
  const [remote, setRemote] = useState(false);
  useEffect(() => {
    const f = document.createElement("iframe");
    f.setAttribute("sandbox", "");
    f.setAttribute("referrerpolicy", "no-referrer");
    f.setAttribute("title", "email");
    f.className = "email-frame";
    f.onload = () => f.setAttribute("data-loaded", "");
    f.src = "/api/v1/touches/" + touch.id + "/email" + (remote ? "?remote=1" : "");
    box.current.replaceChildren(f);
  }, [touch.id, touch.html, remote]);
  return html`${!remote && hasRemoteImages(touch.html) &&
    html`<div class="remote-images" data-remote-images=${touch.id}>
      ${t("email.remoteHidden")}
      <button type="button" class="link small show-remote" onClick=${() => setRemote(true)}>${t("email.showRemote")}</button>
    </div>`}
    <div class="email" ref=${box}></div>`;
}
