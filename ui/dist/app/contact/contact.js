// Contact actions: edit a contact and its handles, find the contacts that
// may be the same person, merge one in and undo it, or say it is not the
// same person. Each change reloads the open conversation, whose panel shows
// the contact (a dismissal changes nothing else there: the panel drops the
// suggestion itself).
import { api, get, patch, post } from "../core/api.js";
import { getState, setState, toast } from "../core/store.js";
import { t } from "../core/i18n.js";
import { openConversation } from "../inbox/conversation.js";
import { refreshSoon } from "../inbox/inbox.js";

async function reload() {
  refreshSoon(50);
  const c = getState().conv;
  if (c) await openConversation(c.id, { quiet: true });
}

// saveContact applies an edit ({name, company, note, responsible_id}).
// Errors are thrown for the form to show next to what was typed.
export async function saveContact(id, edit) {
  const c = await patch(`/api/v1/contacts/${id}`, edit);
  await reload();
  toast("ok", t("contact.saved"));
  return c;
}

export async function addIdentity(id, kind, value) {
  const r = await post(`/api/v1/contacts/${id}/identities`, { kind, value });
  await reload();
  return r;
}

export async function removeIdentity(id, identityId) {
  try {
    await api("DELETE", `/api/v1/contacts/${id}/identities/${identityId}`);
    await reload();
    toast("ok", t("contact.identityRemoved"));
  } catch (e) {
    toast("error", e.message);
  }
}

// duplicates lists the contacts one message tied to this one.
export async function duplicates(id) {
  const r = await get(`/api/v1/contacts/${id}/duplicates`);
  return r.duplicates || [];
}

// merge moves other into id; state.lastMerge keeps what undoes it.
export async function merge(id, other) {
  try {
    const r = await post(`/api/v1/contacts/${id}/merge`, { contact_id: other.id });
    setState({ lastMerge: { auditId: r.audit_id, survivor: id, name: other.name || "#" + other.id } });
    await reload();
    toast("ok", t("merge.done"));
    return true;
  } catch (e) {
    toast("error", e.message);
    return false;
  }
}

// dismissDuplicate says other is not the same person as id: the pair is no
// longer suggested (until a new message names both).
export async function dismissDuplicate(id, other) {
  try {
    await post(`/api/v1/contacts/${id}/duplicates/${other.id}/dismiss`);
    toast("ok", t("merge.dismissed"));
    return true;
  } catch (e) {
    toast("error", e.message);
    return false;
  }
}

export async function undoMerge() {
  const m = getState().lastMerge;
  if (!m) return;
  try {
    await post(`/api/v1/merges/${m.auditId}/undo`);
    setState({ lastMerge: null });
    await reload();
    toast("ok", t("merge.undone"));
  } catch (e) {
    toast("error", e.message);
  }
}
