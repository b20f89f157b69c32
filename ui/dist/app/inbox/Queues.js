// Queues: the left column with live counters.
import { html } from "../core/html.js";
import { useStore } from "../core/store.js";
import { t } from "../core/i18n.js";
import { queuesFor, selectQueue } from "./inbox.js";

export function Queues() {
  const role = useStore((s) => s.me.user.role);
  const current = useStore((s) => s.route.queue);
  const counts = useStore((s) => s.counts);
  const overdueMin = useStore((s) => Math.round((s.me.overdue_after_s || 1800) / 60));
  const overdue = counts.overdue?.n || 0;
  return html`<nav class="queues" aria-label=${t("queues.label")}>
    <ul>
      ${queuesFor(role).map((q) => {
        const c = counts[q.id];
        return html`<li>
          <a
            href=${"/inbox/" + q.id}
            id=${"queue-" + q.id}
            class=${q.id === current ? "on" : ""}
            aria-current=${q.id === current ? "page" : undefined}
            onClick=${(e) => {
              e.preventDefault();
              selectQueue(q.id);
            }}
          >
            <span>${t("queue." + q.id)}</span>
            ${c &&
            html`<b
              class=${"count" + (c.n ? "" : " zero") + (q.warn ? " warn" : "") + (q.id === "waiting" && overdue ? " late" : "")}
              data-count=${c.n}
              title=${q.id === "waiting" && overdue ? t("queue.overdue", { n: overdue, min: overdueMin }) : undefined}
              >${c.n}</b
            >`}
          </a>
        </li>`;
      })}
    </ul>
  </nav>`;
}
