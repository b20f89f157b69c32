// Bell: the reminders of touches still without a deal; a badge with their
// number, a list that opens a conversation on click.
import { html } from "../core/html.js";
import { useEffect } from "preact/hooks";
import { useStore } from "../core/store.js";
import { t } from "../core/i18n.js";
import { elapsed, stamp } from "../core/format.js";
import { go } from "./inbox.js";
import { reminderName, toggleBell } from "./reminders.js";
import { ChannelIcon, Icon } from "../components/Icons.js";

export function Bell() {
  const { items, total } = useStore((s) => s.reminders);
  const inQueue = useStore((s) => s.counts.unlinked?.n || 0);
  const remindMin = Math.round((useStore((s) => s.me.remind_after_s) || 1800) / 60);
  const open = useStore((s) => s.bellOpen);
  useStore((s) => s.now);
  useEffect(() => {
    if (!open) return;
    const away = (e) => !e.target.closest(".bell-wrap") && toggleBell(false);
    document.addEventListener("mousedown", away);
    return () => document.removeEventListener("mousedown", away);
  }, [open]);
  const pick = (r) => {
    toggleBell(false);
    go({ page: "inbox", queue: "unlinked", convId: r.conversation_id });
  };
  const toQueue = (e) => {
    e.preventDefault();
    toggleBell(false);
    go({ page: "inbox", queue: "unlinked", convId: null });
  };
  return html`<div class="bell-wrap">
    <button
      type="button"
      id="bell"
      class=${"ghost bell" + (total ? " has" : "")}
      aria-expanded=${open}
      aria-label=${t("bell.label")}
      title=${t("bell.label")}
      onClick=${() => toggleBell()}
    >
      <${Icon} name="bell" size=${18} />
      ${total > 0 && html`<b class="badge" data-count=${total}>${total > 99 ? "99+" : total}</b>`}
    </button>
    ${open &&
    html`<div class="bell-menu" id="reminders" role="dialog" aria-label=${t("bell.title")} onKeyDown=${(e) => e.key === "Escape" && toggleBell(false)}>
      <h3>${t("bell.title")}</h3>
      ${items.length === 0 && html`<p class="muted pad">${inQueue ? t("bell.noneDue", { min: remindMin }) : t("bell.empty")}</p>`}
      <ul>
        ${items.map(
          (r) => html`<li key=${r.touch_id}>
            <a href=${`/inbox/unlinked/${r.conversation_id}`} data-reminder=${r.touch_id} onClick=${(e) => (e.preventDefault(), pick(r))}>
              <span class="ci-top"><${ChannelIcon} channel=${r.channel} /><b class="ci-name">${reminderName(r)}</b><time title=${stamp(r.occurred_at)}>${t("bell.noDeal", { ago: elapsed(r.occurred_at, t) })}</time></span>
              <span class="ci-preview">${r.kind === "call" ? t("list.call") : r.preview || "—"}</span>
              <span class="small muted why">${t("bell.why", { min: remindMin, at: stamp(r.reminded_at) })}</span>
            </a>
          </li>`,
        )}
      </ul>
      ${total > items.length && html`<p class="muted pad">${t("bell.more", { n: total - items.length })}</p>`}
      ${inQueue > 0 && html`<p class="pad"><a href="/inbox/unlinked" id="bell-queue" onClick=${toQueue}>${t("bell.queue", { n: inQueue })}</a></p>`}
    </div>`}
  </div>`;
}
