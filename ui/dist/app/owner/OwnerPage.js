// OwnerPage: the owner's pages: contacts, audit trail, users, channel accounts,
// ad sources with entry points and spend, the marketing report, and mail
// with no readable sender.
import { html } from "../core/html.js";
import { useStore } from "../core/store.js";
import { Audit } from "./Audit.js";
import { Users } from "./Users.js";
import { Accounts } from "./Accounts.js";
import { Sources } from "./Sources.js";
import { Contacts } from "./Contacts.js";
import { Report } from "./Report.js";
import { Unreadable } from "./Unreadable.js";

const PAGES = { contacts: Contacts, audit: Audit, users: Users, accounts: Accounts, sources: Sources, report: Report, unreadable: Unreadable };

export function OwnerPage({ tab }) {
  useStore((s) => s.lang);
  const Page = PAGES[tab] || Audit;
  return html`<main class="owner" id=${"owner-" + tab}><${Page} /></main>`;
}
