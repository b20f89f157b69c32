// auditWords says an audit entry in words: what happened to which object,
// with names instead of ids and money formatted; the raw data stays one
// click away on the page.
import { t } from "../core/i18n.js";
import { money, stamp } from "../core/format.js";
import { userName } from "../core/session.js";

// name is an object's name from the page's names, or a fallback "#id".
function name(names, type, id) {
  if (id == null) return "";
  const n = names[`${type}:${id}`];
  return n || (n === "" ? t("audit.noName", { id }) : t("audit.gone", { what: t("object." + type, {}, type), id }));
}

const who = (id) => (id ? userName(id) : t("audit.queue"));
const day = (iso) => (iso ? new Date(iso).toLocaleDateString(document.documentElement.lang || undefined) : "");

// vars are the placeholders of an entry's sentence.
function vars(e, d, names) {
  const v = {
    deal: name(names, "deal", e.object_type === "deal" ? e.object_id : d.deal_id),
    contact: name(names, "contact", e.object_type === "contact" ? e.object_id : d.contact_id),
    stage: name(names, "stage", d.stage_id),
    from: name(names, "stage", d.previous_stage_id),
    amount: d.amount != null ? money(d.amount, d.currency) : "",
    reason: d.reason || "",
    email: d.email || "",
    name: d.name || names[`${e.object_type}:${e.object_id}`] || "",
    channel: d.channel ? t("channel." + d.channel, {}, d.channel) : "",
    source: name(names, "ad_source", e.object_type === "ad_source" ? e.object_id : d.ad_source_id),
    address: d.address || names[`entry_point:${e.object_id}`] || "",
    rows: d.rows ?? "",
    region: d.region_to || "",
    user: userName(e.object_id),
  };
  if (e.object_type === "touch") v.contact = names[`touch:${e.object_id}`] || v.contact;
  if (e.object_type === "conversation") v.contact = names[`conversation:${e.object_id}`] || "";
  if (e.action === "conversation.assign" || e.action === "contact.responsible") Object.assign(v, { from: who(d.from), to: who(d.to) });
  if (e.action === "touch.link") v.deal = name(names, "deal", d.deal_id);
  if (e.action === "spend.add") Object.assign(v, { source: name(names, "ad_source", e.object_id), period: `${day(d.period_start)} — ${day(d.period_end)}` });
  if (e.action === "entry_point.bind") Object.assign(v, { source: d.ad_source_id ? name(names, "ad_source", d.ad_source_id) : t("sources.unbound"), at: stamp(d.valid_from) });
  if (e.action === "contact.identity") v.handles = (d.added || d.removed || []).join(", ");
  if (e.action === "contact.not_client") v.why = d.to ? t("notClient." + d.to) : "";
  return v;
}

// variant picks the sentence of an action whose data says which one it is.
function variant(e, d) {
  switch (e.action) {
    case "user.password":
      return d.own ? ".own" : d.reset ? ".reset" : "";
    case "contact.identity":
      return d.removed ? ".removed" : ".added";
    case "deal.edit":
      return d.responsible_to !== undefined ? ".handover" : d.title_to !== undefined ? ".title" : "";
    case "entry_point.edit":
      if (d.region_to !== undefined) return d.region_to ? ".region" : ".regionCleared";
      return d.auto_deal_to ? ".on" : ".off";
    case "contact.not_client":
      return d.blocked_to && !d.blocked_from ? ".block" : d.to ? ".set" : ".client";
  }
  return "";
}

// describe is the sentence of entry e.
export function describe(e, names) {
  const d = e.data && typeof e.data === "object" ? e.data : {};
  const key = "aw." + e.action + variant(e, d);
  const v = vars(e, d, names);
  if (e.action === "deal.edit" && d.responsible_to !== undefined) Object.assign(v, { from: who(d.responsible_from), to: who(d.responsible_to) });
  if (e.action === "deal.edit" && d.title_to !== undefined) Object.assign(v, { from: d.title_from, to: d.title_to });
  return t(key, v, e.action);
}
