// Shell: the top bar (pages, live state, language, user) and the page.
import { useEffect, useState } from "preact/hooks";
import { html } from "../core/html.js";
import { useStore, setState } from "../core/store.js";
import { t } from "../core/i18n.js";
import { logout } from "../core/session.js";
import { go } from "../inbox/inbox.js";
import { LangSwitch } from "./LangSwitch.js";
import { Bell } from "../inbox/Bell.js";
import { InboxPage } from "../inbox/InboxPage.js";
import { OwnerPage } from "../owner/OwnerPage.js";
import { DealsPage } from "../deals/DealsPage.js";
import { TeamPage } from "../team/TeamPage.js";
import { OWNER_TABS } from "../core/router.js";
import { Password } from "./Password.js";
import { KeysHelp } from "./KeysHelp.js";

function nav(e, route) {
  e.preventDefault();
  go(route);
}

export function Shell() {
  const me = useStore((s) => s.me);
  const route = useStore((s) => s.route);
  const live = useStore((s) => s.live);
  useStore((s) => s.lang);
  const owner = me.user.role === "owner";
  const [pw, setPw] = useState(false);
  // On a phone the pages are a strip wider than the screen: keep the
  // current one in view.
  useEffect(() => document.querySelector(".pages a.on")?.scrollIntoView({ block: "nearest", inline: "nearest" }), [route.page, route.tab]);
  return html`<div class="shell">
    <header class="topbar">
      <a class="brand" href="/inbox" onClick=${(e) => nav(e, { page: "inbox", queue: "", convId: null })}>
        <img src="/favicon.svg" alt="" width="22" height="22" /><span>Switchboard</span>
      </a>
      <nav class="pages">
        <a href="/inbox" class=${route.page === "inbox" ? "on" : ""} onClick=${(e) => nav(e, { page: "inbox", queue: route.queue || "", convId: null })}>${t("nav.inbox")}</a>
        <a href="/deals" id="nav-deals" class=${route.page === "deals" ? "on" : ""} onClick=${(e) => nav(e, { page: "deals", dealId: null })}>${t("nav.deals")}</a>
        ${me.user.role !== "manager" && html`<a href="/team" id="nav-team" class=${route.page === "team" ? "on" : ""} onClick=${(e) => nav(e, { page: "team" })}>${t("nav.team")}</a>`}
        ${owner &&
        OWNER_TABS.map(
          (tab) =>
            html`<a href=${"/owner/" + tab} class=${route.page === "owner" && route.tab === tab ? "on" : ""} onClick=${(e) => nav(e, { page: "owner", tab })}>${t("nav." + tab)}</a>`,
        )}
      </nav>
      <span class=${"live " + live} id="live" title=${t("live." + live)}><i></i><span class="live-text">${t("live." + live)}</span></span>
      <${Bell} />
      <${LangSwitch} />
      <button type="button" class="who ghost" id="who" title=${me.user.email + " — " + t("password.title")} onClick=${() => setPw(!pw)}>
        ${me.user.name || me.user.email} <small>${t("role." + me.user.role)}</small>
      </button>
      <button type="button" id="logout" class="ghost" onClick=${logout}>${t("nav.logout")}</button>
    </header>
    ${pw && !me.must_change_password && html`<div class="password-pop"><${Password} done=${() => setPw(false)} /></div>`}
    ${me.must_change_password &&
    html`<div class="password-pop forced"><${Password} forced=${true} done=${() => setState((s) => ({ me: { ...s.me, must_change_password: false } }))} /></div>`}
    <${KeysHelp} />
    ${route.page === "owner" ? html`<${OwnerPage} tab=${route.tab} />` : route.page === "deals" ? html`<${DealsPage} dealId=${route.dealId} />` : route.page === "team" ? html`<${TeamPage} />` : html`<${InboxPage} />`}
  </div>`;
}
