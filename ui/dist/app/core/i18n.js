// i18n: t() looks a string of the UI up in the current language, and the
// language is chosen and remembered here. The strings are in app/i18n/en.js
// and app/i18n/ru.js, one dictionary per language with the same keys. A
// value may hold {name} placeholders, and a value that is an object is
// chosen by plural form of {n} (Intl.PluralRules: one, few, many, other).
import { getState } from "./store.js";
import en from "../i18n/en.js";
import ru from "../i18n/ru.js";

const LANG_KEY = "switchboard.lang";

export const dictionaries = { en, ru };

// detectLang: the saved choice, else Russian for a Russian browser, else English.
export function detectLang() {
  try {
    const saved = localStorage.getItem(LANG_KEY);
    if (saved && dictionaries[saved]) return saved;
  } catch {
    // storage may be off
  }
  const first = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  return /^ru\b/i.test(first) ? "ru" : "en";
}

export function saveLang(lang) {
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch {
    // the choice lasts for this page only
  }
}

const plurals = {};

// t looks key up in the current language (then English), fills {vars},
// and returns fallback (or the key) when no dictionary has it.
export function t(key, vars = {}, fallback) {
  const lang = getState().lang;
  let v = dictionaries[lang][key] ?? en[key];
  if (v === undefined) return fallback ?? key;
  if (typeof v === "object") {
    plurals[lang] ||= new Intl.PluralRules(lang);
    v = v[plurals[lang].select(Number(vars.n) || 0)] ?? v.other;
  }
  return v.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}
