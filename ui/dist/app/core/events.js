// events applies WebSocket events (crm.Event: {id, type, conversation_id,
// touch_id, data}) to what is on screen: the list and counters, the open
// conversation, reply statuses, account states.
import { getState, setState } from "./store.js";
import { refreshSoon } from "../inbox/inbox.js";
import { reloadSoon, touchStatus } from "../inbox/conversation.js";
import { loadRefs } from "./session.js";
import { reminded } from "../inbox/reminders.js";
import { dialed } from "../contact/Dial.js";

export function handleEvent(ev) {
  const s = getState();
  const conv = s.conv;
  const d = ev.data || {};
  // the open timeline shows the contact's touches in all their conversations
  const openHere =
    conv &&
    (ev.conversation_id === conv.id ||
      (conv.detail && (conv.detail.related || []).some((c) => c.id === ev.conversation_id)) ||
      (conv.detail && d.contact_id === conv.detail.contact.id));
  switch (ev.type) {
    case "touch.added":
    case "touch.linked":
    case "conversation.changed":
      refreshSoon();
      if (openHere) reloadSoon();
      break;
    case "touch.reminder":
      reminded(ev);
      break;
    case "touch.status":
      touchStatus(ev);
      // the list marks a conversation whose last reply failed
      if (["failed", "queued", "sent"].includes(d.delivery_status)) refreshSoon();
      break;
    case "touch.recording":
      if (openHere) reloadSoon();
      break;
    case "call.dial":
      dialed(ev);
      break;
    case "deal.changed":
      if (conv?.detail && d.contact_id === conv.detail.contact.id) reloadSoon();
      break;
    case "contact.changed":
      refreshSoon();
      if (conv?.detail && [d.contact_id, d.merged_id, d.other_id].includes(conv.detail.contact.id)) {
        setState((st) => ({ contactRev: st.contactRev + 1 }));
        reloadSoon();
      }
      break;
    case "account.state":
      // rev: a new pairing code is a new event (the code itself never is).
      // A state that began before the one shown is stale: kept out.
      setState((st) => {
        const cur = st.accountStates[d.account_id];
        if (cur && Date.parse(d.state.since) < Date.parse(cur.since)) return null;
        return { accountStates: { ...st.accountStates, [d.account_id]: { ...d.state, rev: ev.id } } };
      });
      break;
    case "resync": // back after a drop: the replay covered events; refresh names too
      refreshSoon();
      if (conv) reloadSoon();
      loadRefs();
      break;
  }
}
