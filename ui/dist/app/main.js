// The entry point: render the app, wire live events and keys, start.
import { render } from "preact";
import { html } from "./html.js";
import { App } from "./components/App.js";
import { boot } from "./session.js";
import { onEvent } from "./live.js";
import { handleEvent } from "./events.js";
import { installKeys } from "./keys.js";

onEvent(handleEvent);
installKeys();
render(html`<${App} />`, document.getElementById("app"));
boot();
