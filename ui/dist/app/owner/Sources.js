// Sources: ad sources with their spend, and the entry points bound to
// them (the marketing report builds on these).
import { useState } from "preact/hooks";
import { html } from "../core/html.js";
import { get, post, patch } from "../core/api.js";
import { t } from "../core/i18n.js";
import { money, parseMoney } from "../core/format.js";
import { useStore, toast } from "../core/store.js";
import { useLoad } from "./useLoad.js";
import { SpendList, monthBounds } from "./SpendList.js";
import { RegionSelect } from "../components/RegionSelect.js";

export function Sources() {
  const accounts = useStore((s) => s.accounts);
  const states = useStore((s) => s.accountStates);
  const [fromOf, setFromOf] = useState({}); // entry point id → the date a new binding starts
  const { data, error, reload } = useLoad(async () => {
    const [{ ad_sources }, { entry_points }] = await Promise.all([get("/api/v1/ad-sources"), get("/api/v1/entry-points")]);
    const spend = await Promise.all(ad_sources.map((s) => get(`/api/v1/ad-sources/${s.id}/spend`).then((r) => r.spend)));
    return { sources: ad_sources, entries: entry_points, spend: Object.fromEntries(ad_sources.map((s, i) => [s.id, spend[i]])) };
  });
  if (!data) return html`<section class="page"><h1>${t("nav.sources")}</h1>${error ? html`<p class="error">${error}</p>` : html`<p class="muted">${t("common.loading")}</p>`}</section>`;
  const acct = Object.fromEntries(accounts.map((a) => [a.id, a]));
  const now = new Date().toISOString();
  // the binding in force now: bindings come oldest valid_from first
  const current = (ep) => (ep.bindings || []).filter((x) => x.valid_from <= now).pop()?.ad_source_id ?? null;
  const bind = async (ep, value) => {
    try {
      // From now on (touches already stored keep their source), or from
      // the date chosen beside it: the touches since then move with it.
      const day = fromOf[ep.id];
      const from = day ? new Date(day + "T00:00:00") : new Date();
      await post(`/api/v1/entry-points/${ep.id}/bindings`, { ad_source_id: value === "" ? null : Number(value), valid_from: from.toISOString() });
      toast("ok", day ? t("sources.boundFrom", { date: day }) : t("sources.bound"));
    } catch (err) {
      toast("error", err.message);
    }
    reload();
  };
  const setAutoDeal = async (ep, on) => {
    try {
      await patch(`/api/v1/entry-points/${ep.id}`, { auto_deal: on });
      toast("ok", on ? t("sources.autoDealOn") : t("sources.autoDealOff"));
    } catch (err) {
      toast("error", err.message);
    }
    reload();
  };
  const setRegion = async (ep, region) => {
    try {
      await patch(`/api/v1/entry-points/${ep.id}`, { region });
      toast("ok", t("sources.regionSaved"));
    } catch (err) {
      toast("error", err.message);
    }
    reload();
  };
  const setVAT = async (s, on) => {
    try {
      await patch(`/api/v1/ad-sources/${s.id}`, { vat_included: on });
      toast("ok", t("sources.vatSaved"));
    } catch (err) {
      toast("error", err.message);
    }
    reload();
  };
  return html`<section class="page">
    <h1>${t("nav.sources")}</h1>
    <h2>${t("sources.title")}</h2>
    <div class="table-wrap">
      <table class="table" id="sources-table">
        <thead><tr><th>${t("sources.name")}</th><th>${t("sources.spend")}</th><th>${t("sources.periods")}</th><th>${t("sources.vat")}</th></tr></thead>
        <tbody>
          ${data.sources.map((s) => {
            const sp = data.spend[s.id] || [];
            const byCur = {};
            for (const x of sp) byCur[x.currency] = (byCur[x.currency] || 0) + x.amount;
            return html`<tr>
              <td>${s.name}${s.archived ? html` <small class="muted">(${t("sources.archived")})</small>` : ""}</td>
              <td class="num">${Object.entries(byCur).map(([c, n]) => html`<div>${money(n, c)}</div>`)}${sp.length === 0 && html`<span class="muted">—</span>`}</td>
              <td class="small"><${SpendList} spend=${sp} done=${reload} /></td>
              <td><input type="checkbox" class="vat" aria-label=${t("sources.vat") + ": " + s.name} checked=${s.vat_included} onChange=${(e) => setVAT(s, e.target.checked)} /></td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>
    <div class="forms">
      <${NewSource} done=${reload} />
      <${NewSpend} sources=${data.sources} done=${reload} />
    </div>
    <${ImportSpend} done=${reload} />
    <h2>${t("sources.entries")}</h2>
    <${NewEntry} accounts=${accounts} sources=${data.sources} done=${reload} />
    <${WaLink} accounts=${accounts.filter((a) => a.channel === "whatsapp")} />
    <div class="table-wrap">
      <table class="table" id="entries-table">
        <thead><tr><th>${t("sources.account")}</th><th>${t("sources.address")}</th><th>${t("sources.bindFrom")}</th><th>${t("sources.boundTo")}</th><th>${t("sources.autoDeal")}</th><th title=${t("sources.regionHint")}>${t("sources.region")}</th></tr></thead>
        <tbody>
          ${data.entries.map(
            (ep) => html`<tr>
              <td>${acct[ep.account_id] ? `${t("channel." + acct[ep.account_id].channel)} · ${acct[ep.account_id].name}` : "#" + ep.account_id}</td>
              <td><code>${ep.address}</code>${tgLink(acct[ep.account_id], states, ep.address)}</td>
              <td><input type="date" class="bind-from" aria-label=${t("sources.bindFrom")} value=${fromOf[ep.id] || ""} onChange=${(e) => setFromOf({ ...fromOf, [ep.id]: e.target.value })} /></td>
              <td>
                <select aria-label=${t("sources.boundTo")} class=${current(ep) == null ? "unbound" : ""} value=${current(ep) ?? ""} onChange=${(e) => bind(ep, e.target.value)}>
                  <option value="">${t("sources.unbound")}</option>
                  ${data.sources.map((s) => html`<option value=${s.id}>${s.name}</option>`)}
                </select>
              </td>
              <td>
                <input type="checkbox" class="auto-deal" aria-label=${t("sources.autoDeal") + ": " + ep.address} checked=${ep.auto_deal}
                  onChange=${(e) => setAutoDeal(ep, e.target.checked)} />
              </td>
              <td>
                <${RegionSelect} class="entry-region" value=${ep.region} label=${t("sources.region") + ": " + ep.address}
                  none=${t("sources.regionAccount", { region: acct[ep.account_id]?.region || t("sources.regionServer") })} onChange=${(e) => setRegion(ep, e.target.value)} />
              </td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </section>`;
}

function NewSource({ done }) {
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      await post("/api/v1/ad-sources", { name: String(f.get("name")).trim() });
      e.target.reset();
      toast("ok", t("sources.added"));
      done();
    } catch (err) {
      toast("error", err.message);
    }
  };
  return html`<form class="card inline-form" onSubmit=${submit}>
    <h3>${t("sources.new")}</h3>
    <input name="name" placeholder=${t("sources.name")} required />
    <button type="submit" class="primary">${t("common.add")}</button>
  </form>`;
}

function NewSpend({ sources, done }) {
  const [error, setError] = useState("");
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const amount = parseMoney(f.get("amount"));
    if (amount === null) {
      setError(t("deal.badAmount"));
      return;
    }
    try {
      await post(`/api/v1/ad-sources/${f.get("source")}/spend`, {
        period_start: f.get("from"),
        period_end: f.get("to"),
        amount,
        campaign: String(f.get("campaign") || "").trim(),
        note: String(f.get("note") || ""),
      });
      e.target.reset();
      setError("");
      toast("ok", t("sources.spendAdded"));
      done();
    } catch (err) {
      setError(err.message);
    }
  };
  return html`<form class="card inline-form" onSubmit=${submit}>
    <h3>${t("sources.addSpend")}</h3>
    <select name="source" required>${sources.map((s) => html`<option value=${s.id}>${s.name}</option>`)}</select>
    <label>${t("spend.month")} <input name="month" type="month" onChange=${(e) => {
      if (!e.target.value) return;
      const b = monthBounds(e.target.value);
      e.target.form.from.value = b.from;
      e.target.form.to.value = b.to;
    }} /></label>
    <label>${t("sources.from")} <input name="from" type="date" required /></label>
    <label>${t("sources.to")} <input name="to" type="date" required /></label>
    <input name="amount" inputmode="decimal" placeholder=${t("sources.amount")} required />
    <input name="campaign" placeholder=${t("sources.campaign")} />
    <input name="note" placeholder=${t("sources.note")} />
    <button type="submit" class="primary">${t("common.add")}</button>
    <p class="muted small">${t("sources.spendHint")}</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </form>`;
}

// ImportSpend: a spend CSV, checked first (nothing stored: the server
// answers the lines it would refuse and the unknown sources), then
// imported; unknown sources are created when the owner ticks so.
function ImportSpend({ done }) {
  const [text, setText] = useState("");
  const [create, setCreate] = useState(false);
  const [res, setRes] = useState(null);
  const [error, setError] = useState("");
  const readFile = async (e) => {
    const file = e.target.files[0];
    if (file) {
      setText(await file.text());
      setRes(null);
    }
  };
  const send = async (dry) => {
    setError("");
    try {
      // Checked first, always: the lines at fault show in the page's language.
      const check = await post("/api/v1/spend/import", { csv: text, create_sources: create, dry_run: true });
      setRes(check);
      if (dry || check.errors.length > 0) return;
      const r = await post("/api/v1/spend/import", { csv: text, create_sources: create });
      toast("ok", t("sources.imported", { n: r.days }));
      setText("");
      setRes(null);
      done();
    } catch (err) {
      setError(err.message);
    }
  };
  const bad = res && res.errors.length > 0;
  return html`<form class="card inline-form import-form" id="spend-import" onSubmit=${(e) => (e.preventDefault(), send(false))}>
    <h3>${t("sources.import")}</h3>
    <p class="muted small">${t("sources.importHint")}</p>
    <label>${t("sources.importFile")} <input type="file" accept=".csv,text/csv,text/plain" onChange=${readFile} /></label>
    <textarea name="csv" aria-label=${t("sources.importText")} placeholder=${t("sources.importText")} value=${text} onInput=${(e) => (setText(e.target.value), setRes(null))}></textarea>
    <label><input type="checkbox" name="create" checked=${create} onChange=${(e) => (setCreate(e.target.checked), setRes(null))} /> ${t("sources.importCreate")}</label>
    <button type="button" onClick=${() => send(true)} disabled=${!text.trim()}>${t("sources.importCheck")}</button>
    <button type="submit" class="primary" disabled=${!text.trim() || bad}>${t("sources.importDo")}</button>
    ${res && !bad && html`<p class="ok small" role="status">${t("sources.importOk", { n: res.days, from: res.from, to: res.to })}</p>`}
    ${bad && html`<p class="error" role="alert">${t("sources.importBad", { n: res.errors.length })}</p>`}
    ${res && res.unknown_sources.length > 0 && html`<p class="small">${t("sources.importUnknown", { names: res.unknown_sources.join(", ") })}</p>`}
    ${bad &&
    html`<ul class="import-errors">
      ${res.errors.map((e) => html`<li>${t("sources.lineErr." + e.code, { line: e.line, value: e.value || "" }, t("sources.lineError", { line: e.line, message: e.message }))}</li>`)}
    </ul>`}
    ${error && html`<pre class="error import-errors" role="alert">${error}</pre>`}
  </form>`;
}

// NewEntry adds an entry point: a tracking number of a phone account, an
// address of a mailbox, a bot's start code, a form's utm_source; bound to
// a source from the beginning. Phone numbers are kept in E.164 however
// they are typed.
function NewEntry({ accounts, sources, done }) {
  const [acc, setAcc] = useState(accounts[0]?.id ?? "");
  // The first account until one is chosen (the accounts may arrive after
  // the first render, when acc could only start empty).
  const cur = accounts.find((a) => String(a.id) === String(acc)) || accounts[0];
  const channel = cur?.channel || "";
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const src = String(f.get("source") || "");
    try {
      await post("/api/v1/entry-points", {
        account_id: cur.id,
        address: String(f.get("address")).trim(),
        ad_source_id: src === "" ? null : Number(src),
        auto_deal: f.get("auto_deal") === "on",
        region: String(f.get("region") || ""),
      });
      e.target.reset();
      toast("ok", t("sources.entryAdded"));
      done();
    } catch (err) {
      toast("error", err.message);
    }
  };
  if (!accounts.length) return null;
  return html`<form class="card inline-form" id="new-entry" onSubmit=${submit}>
    <h3>${t("sources.newEntry")}</h3>
    <select name="account" aria-label=${t("sources.account")} value=${cur.id} onChange=${(e) => setAcc(e.target.value)}>
      ${accounts.map((a) => html`<option value=${a.id}>${t("channel." + a.channel)} · ${a.name}</option>`)}
    </select>
    <input name="address" required placeholder=${t("sources.addressPh." + channel, {}, t("sources.address"))} aria-label=${t("sources.address")} />
    <select name="source" aria-label=${t("sources.boundTo")}>
      <option value="">${t("sources.unbound")}</option>
      ${sources.map((x) => html`<option value=${x.id}>${x.name}</option>`)}
    </select>
    <label class="check"><input type="checkbox" name="auto_deal" checked /> ${t("sources.autoDeal")}</label>
    <${RegionSelect} name="region" class="new-entry-region" label=${t("sources.region")} none=${t("sources.regionNew")} />
    <button type="submit" class="primary">${t("common.add")}</button>
  </form>`;
}

// tgLink is the t.me link that brings a client to a bot with a start
// code (the entry point of an ad), once the bot's running account has
// told its username.
function tgLink(account, states, code) {
  if (account?.channel !== "telegram" || !/^[A-Za-z0-9_-]{1,64}$/.test(code)) return "";
  const bot = (states[account.id] || states[String(account.id)])?.self;
  if (!bot) return html`<div class="small muted">${t("sources.tgNoBot")}</div>`;
  const link = `https://t.me/${bot}?start=${code}`;
  return html`<div class="small"><a class="tg-link" href=${link} target="_blank" rel="noopener noreferrer">${link}</a></div>`;
}

// WaLink makes the wa.me link an ad prints for a WhatsApp number: the chat
// opens with a prefilled text ending in the ad's code, and the first
// message, carrying the code, lands on the entry point of that code (its
// source is the code's until it is bound to another).
function WaLink({ accounts }) {
  const [acc, setAcc] = useState(accounts[0]?.id ?? "");
  const [code, setCode] = useState("");
  const [text, setText] = useState(t("sources.waText"));
  if (!accounts.length) return null;
  // The first account until one is chosen: the accounts may arrive after
  // the first render, when acc could only start empty.
  const a = accounts.find((x) => String(x.id) === String(acc)) || accounts[0];
  const number = String((a?.settings && a.settings.number) || "").replace(/\D/g, "");
  const clean = code.trim().toLowerCase();
  const ok = number && /^[a-z0-9][a-z0-9_-]{0,31}$/.test(clean);
  const link = ok ? `https://wa.me/${number}?text=${encodeURIComponent(text.trim() + " #" + clean)}` : "";
  return html`<div class="card inline-form" id="wa-link">
    <h3>${t("sources.waLink")}</h3>
    <select aria-label=${t("sources.account")} value=${a.id} onChange=${(e) => setAcc(e.target.value)}>
      ${accounts.map((x) => html`<option value=${x.id}>${x.name}</option>`)}
    </select>
    <input placeholder=${t("sources.waCode")} aria-label=${t("sources.waCode")} value=${code} onInput=${(e) => setCode(e.target.value)} />
    <input class="wide" aria-label=${t("sources.waTextLabel")} value=${text} onInput=${(e) => setText(e.target.value)} />
    ${!number && html`<p class="muted small">${t("sources.waNoNumber")}</p>`}
    ${link && html`<p class="small"><a href=${link} target="_blank" rel="noopener noreferrer" id="wa-link-url">${link}</a></p>`}
  </div>`;
}
