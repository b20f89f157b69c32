// The entry point: render the app, wire live events and keys, start.
// The modules are grouped by screen:
//   core/        state, API, session, live events, router, i18n, formatting
//   i18n/        the strings, one dictionary per language
//   components/  the app's frame (App, Login, Shell) and shared widgets
//   inbox/       queues, conversation list and view, composer, timeline,
//                snooze, reminders (the bell), keyboard shortcuts
//   contact/     the contact panel: card, deals, duplicates and merge
//   owner/       the owner's pages: contacts, audit, users, accounts, sources
import { render } from "preact";
import { html } from "./core/html.js";
import { App } from "./components/App.js";
import { boot } from "./core/session.js";
import { onEvent } from "./core/live.js";
import { handleEvent } from "./core/events.js";
import { installKeys } from "./inbox/keys.js";

onEvent(handleEvent);
installKeys();
render(html`<${App} />`, document.getElementById("app"));
boot();
