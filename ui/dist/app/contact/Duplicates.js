// Duplicates: contacts that may be the same person as this one (a message
// carried handles of both), each with a merge that asks first and a "not a
// duplicate" that dismisses the suggestion, and the undo of the last merge
// made here.
import { useEffect, useState } from "preact/hooks";
import { html } from "../core/html.js";
import { useStore } from "../core/store.js";
import { t } from "../core/i18n.js";
import { handle } from "../core/format.js";
import { dismissDuplicate, duplicates, merge, undoMerge } from "./contact.js";
import { ChannelIcon } from "../components/Icons.js";
import { Handle } from "../components/Handle.js";

export function Duplicates({ contact, version }) {
  const [list, setList] = useState([]);
  const [asking, setAsking] = useState(0); // the duplicate whose merge awaits a yes
  const last = useStore((s) => s.lastMerge);
  const rev = useStore((s) => s.contactRev); // another user merged or dismissed
  useEffect(() => {
    let live = true;
    duplicates(contact.id)
      .then((d) => live && setList(d))
      .catch(() => live && setList([]));
    return () => {
      live = false;
    };
  }, [contact.id, version, rev]);
  const undo = last && last.survivor === contact.id;
  if (!list.length && !undo) return null;
  const name = (c) => c.name || (c.identities?.[0] ? handle(c.identities[0].kind, c.identities[0].value) : "#" + c.id);
  return html`<section class="duplicates" id="duplicates">
    ${list.length > 0 && html`<h3>${t("merge.title")}</h3><p class="muted small">${t("merge.why")}</p>`}
    ${list.map(
      ({ contact: c, touch_id }) => html`<div class="dup card" data-dup=${c.id}>
        <b>${name(c)}</b>
        <ul class="identities">
          ${(c.identities || []).map((i) => html`<li><${ChannelIcon} channel=${i.kind} size=${14} /> <${Handle} identity=${i} /></li>`)}
        </ul>
        ${asking === c.id
          ? html`<div class="confirm">
              <p>${t("merge.sure", { other: name(c), me: contact.name || "#" + contact.id })}</p>
              <button type="button" class="primary merge-yes" onClick=${async () => (await merge(contact.id, c)) && setAsking(0)}>${t("merge.yes")}</button>
              <button type="button" class="ghost" onClick=${() => setAsking(0)}>${t("common.cancel")}</button>
            </div>`
          : html`<div class="row">
              <button type="button" class="merge-btn" onClick=${() => setAsking(c.id)}>${t("merge.action")}</button>
              <button type="button" class="ghost not-dup-btn" onClick=${async () =>
                (await dismissDuplicate(contact.id, c)) && setList((l) => l.filter((d) => d.contact.id !== c.id))}>${t("merge.notDuplicate")}</button>
              ${document.getElementById("touch-" + touch_id) &&
              html`<a class="small" href=${"#touch-" + touch_id} onClick=${(e) => {
                e.preventDefault();
                document.getElementById("touch-" + touch_id)?.scrollIntoView({ block: "center", behavior: "smooth" });
              }}>${t("merge.message")}</a>`}
            </div>`}
      </div>`,
    )}
    ${undo &&
    html`<p class="merged-note" id="merged-note">${t("merge.merged", { name: last.name })}${" "}<button type="button" class="link small" id="undo-merge" onClick=${undoMerge}>${t("merge.undo")}</button></p>`}
  </section>`;
}
