// InboxPage: queues | conversation list | conversation (with the contact
// panel). On a phone one pane shows at a time.
import { html } from "../core/html.js";
import { useStore } from "../core/store.js";
import { Queues } from "./Queues.js";
import { ConversationList } from "./ConversationList.js";
import { ConversationView } from "./ConversationView.js";

export function InboxPage() {
  const convId = useStore((s) => s.route.convId);
  return html`<main class=${"inbox" + (convId ? " has-conv" : "")}>
    <${Queues} />
    <${ConversationList} />
    <${ConversationView} />
  </main>`;
}
