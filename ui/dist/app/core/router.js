// The router maps the address bar to state.route and back:
//   /inbox/<queue>            a queue
//   /inbox/<queue>/<id>       a queue with a conversation open
//   /owner/<tab>              owner pages: contacts, audit, users, accounts, sources, report, unreadable
//   /team                     the team view (leads and the owner)
//   /deals                    the deals board (or list)
//   /deals/<id>               a deal with its touches
// The server answers index.html for every such path (inbox/static.go).

export const OWNER_TABS = ["contacts", "audit", "users", "accounts", "sources", "report", "unreadable"];

export function parse(pathname) {
  const parts = pathname.split("/").filter(Boolean);
  if (parts[0] === "owner") return { page: "owner", tab: OWNER_TABS.includes(parts[1]) ? parts[1] : "audit" };
  if (parts[0] === "team") return { page: "team" };
  if (parts[0] === "deals") {
    const id = Number(parts[1]);
    return { page: "deals", dealId: Number.isInteger(id) && id > 0 ? id : null };
  }
  if (parts[0] === "inbox" && parts[1]) {
    const id = Number(parts[2]);
    return { page: "inbox", queue: parts[1], convId: Number.isInteger(id) && id > 0 ? id : null };
  }
  return { page: "inbox", queue: "", convId: null };
}

export function path(route) {
  if (route.page === "owner") return `/owner/${route.tab}`;
  if (route.page === "team") return "/team";
  if (route.page === "deals") return "/deals" + (route.dealId ? `/${route.dealId}` : "");
  return `/inbox/${route.queue}` + (route.convId ? `/${route.convId}` : "");
}
