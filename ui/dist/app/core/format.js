// Formatting of money, times and durations for the current language.
// Money is integer minor units with a currency code (docs/api.md, "Money"):
// never a float in the state, only at the last step of display.
import { getState } from "./store.js";
import { t } from "./i18n.js";
// libphonenumber-js's browser bundle (vendored, ui/dist/vendor/README) sets
// globalThis.libphonenumber: how each country writes its numbers.
import "libphonenumber-js";

const locale = () => (getState().lang === "ru" ? "ru-RU" : "en-GB");

// fractionDigits is how many minor-unit digits a currency has (RUB: 2).
export function fractionDigits(currency) {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  } catch {
    return 2;
  }
}

export function money(minor, currency) {
  currency = currency || getState().me?.currency || "RUB";
  const d = fractionDigits(currency);
  const whole = minor % 10 ** d === 0;
  try {
    return new Intl.NumberFormat(locale(), {
      style: "currency",
      currency,
      currencyDisplay: "narrowSymbol",
      minimumFractionDigits: whole ? 0 : d,
      maximumFractionDigits: d,
    }).format(minor / 10 ** d);
  } catch {
    return `${minor / 10 ** d} ${currency}`;
  }
}

// parseMoney reads what a person typed ("90 000", "1 666,67", "9000.5")
// into minor units with integer arithmetic; null if it is not an amount.
export function parseMoney(text, currency) {
  const d = fractionDigits(currency || getState().me?.currency || "RUB");
  const s = String(text).replace(/[\s\u00a0\u202f']/g, "").replace(/[₽$€£]|RUB|руб\.?|р\.?/gi, "");
  const m = /^(\d+)(?:[.,](\d*))?$/.exec(s);
  if (!m || (m[2] && m[2].length > d)) return null;
  const frac = (m[2] || "").padEnd(d, "0");
  const n = Number(m[1]) * 10 ** d + (d ? Number(frac) : 0);
  return Number.isSafeInteger(n) ? n : null;
}

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

// when is a short time of day today, else a date.
export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const now = new Date(getState().now);
  if (sameDay(d, now)) return d.toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit" });
  const opts = { day: "numeric", month: "short" };
  if (d.getFullYear() !== now.getFullYear()) opts.year = "numeric";
  return d.toLocaleDateString(locale(), opts);
}

// stamp is a full date and time, for titles and the timeline.
export function stamp(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(locale(), { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });
}

// elapsed is the time since iso, short: "4 min", "3 h", "2 d".
export function elapsed(iso, t) {
  const s = Math.max(0, (getState().now - new Date(iso).getTime()) / 1000);
  if (s < 60) return t("time.justNow");
  if (s < 3600) return t("time.min", { n: Math.floor(s / 60) });
  if (s < 86400) return t("time.h", { n: Math.floor(s / 3600) });
  return t("time.d", { n: Math.floor(s / 86400) });
}

export function minutesSince(iso) {
  return (getState().now - new Date(iso).getTime()) / 60000;
}

// duration of a call in seconds: "0:42", "12:05", "1:02:03".
export function duration(sec) {
  sec = Math.max(0, Math.round(Number(sec) || 0));
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = String(sec % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

// safeURL returns url if it is http(s), else "": hrefs from message data
// never get a javascript: or data: scheme.
export function safeURL(url) {
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : "";
  } catch {
    return "";
  }
}

// phone formats an E.164 number for reading: +7 numbers as
// +7 383 234-90-96, others as their country groups them
// (+375 29 612-34-57, +49 30 1234567), or as they are when unknown.
export function phone(e164) {
  const s = e164 || "";
  const m = /^\+7(\d{3})(\d{3})(\d{2})(\d{2})$/.exec(s);
  if (m) return `+7 ${m[1]} ${m[2]}-${m[3]}-${m[4]}`;
  const lib = globalThis.libphonenumber;
  if (lib && /^\+\d{6,15}$/.test(s)) {
    try {
      const n = lib.parsePhoneNumberFromString(s);
      if (n && n.isPossible()) return n.formatInternational();
    } catch {
      // not a number libphonenumber knows: shown as stored
    }
  }
  return e164;
}

// handle turns an identity ("phone:+7…", "whatsapp:7913…@s.whatsapp.net",
// or kind and value apart) into what a person reads.
export function handle(kindOrHandle, value) {
  let kind = kindOrHandle || "";
  if (value === undefined) [kind, value] = kind.includes(":") ? [kind.slice(0, kind.indexOf(":")), kind.slice(kind.indexOf(":") + 1)] : ["", kind];
  if (kind === "phone") return phone(value);
  // A LID ("…@lid") is WhatsApp's id of a chat whose number it hides:
  // never shown as if it were a number.
  if (kind === "whatsapp" && /@lid$/.test(value)) return t("contact.numberHidden");
  if (kind === "whatsapp") return phone("+" + value.replace(/@.*$/, ""));
  if (kind === "telegram") return "Telegram " + value;
  return value;
}

// number formats a count for the current language ("1 234" / "1,234").
export function number(n) {
  return new Intl.NumberFormat(locale()).format(n);
}

// percent formats a fraction (0.2) as a percentage ("20 %" / "20%"),
// one decimal when it is not whole.
export function percent(x) {
  return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 1 }).format(x);
}
