// Dial: the call button beside a contact's phone (click-to-call). The PBX
// rings the manager's extension, then the contact; how far it got arrives
// as call.dial events (dialed below), shown beside the button until a
// final state has been on screen for a while.
import { html } from "../core/html.js";
import { post } from "../core/api.js";
import { getState, setState, useStore, toast } from "../core/store.js";
import { t } from "../core/i18n.js";
import { Icon } from "../components/Icons.js";

const FINAL = new Set(["connected", "failed"]);

// DialButton dials phone alone; ext, the extension last said with it, is
// what the manager asks for once through, so the button says it.
export function DialButton({ contactId, phone, ext }) {
  const can = useStore((s) => s.me.can_dial);
  const dial = useStore((s) => (s.dials || {})[phone]);
  if (!can) return null;
  const busy = dial && !FINAL.has(dial.state);
  const click = async () => {
    setDial(phone, { state: "requested" });
    try {
      const r = await post(`/api/v1/contacts/${contactId}/call`, { phone });
      setDial(phone, { id: r.id, state: (getState().dials || {})[phone]?.state || "requested" });
    } catch (e) {
      setDial(phone, { state: "failed", error: e.message });
      toast("error", e.message);
    }
  };
  const title = ext ? t("dial.callExt", { ext }) : t("dial.call");
  return html`<button type="button" class="ghost icon-btn dial" data-dial=${phone} aria-label=${t("dial.call") + " " + phone + (ext ? ", " + t("touch.phoneExt", { ext }) : "")} title=${title} disabled=${busy} onClick=${click}>
      <${Icon} name="phone" size=${14} />
    </button>
    ${dial && html`<span class=${"dial-state " + dial.state} data-dial-state=${dial.state} title=${dial.error || ""}>${t("dial." + dial.state)}${dial.error ? ": " + dial.error : ""}</span>`}`;
}

function setDial(phone, d) {
  setState((s) => ({ dials: { ...(s.dials || {}), [phone]: { ...((s.dials || {})[phone] || {}), ...d } } }));
  if (FINAL.has(d.state)) {
    setTimeout(() => {
      if ((getState().dials || {})[phone]?.state === d.state) setState((s) => ({ dials: { ...s.dials, [phone]: undefined } }));
    }, 15000);
  }
}

// dialed applies a call.dial event: the attempt it names moves on.
export function dialed(ev) {
  const d = ev.data || {};
  const dials = getState().dials || {};
  for (const [phone, x] of Object.entries(dials)) {
    if (x && (x.id === d.id || (!x.id && x.state === "requested"))) {
      if (x.id === d.id && FINAL.has(x.state)) return; // never back from connected or failed
      setDial(phone, { id: d.id, state: d.state, error: d.error || "" });
      return;
    }
  }
}
