// Keyboard shortcuts of the inbox: j/k next/previous conversation, r reply,
// a assign (or take), e close/reopen, s snooze, / search, ? the list of
// them, Esc leaves a field. They match the physical key, so they work on
// the Russian layout too.
// Shortcuts that move the focus into a field do it on keyup, so the key
// itself is never typed into that field.
import { getState, setState } from "../core/store.js";
import { move } from "./inbox.js";

// CODES are the physical keys of the shortcuts: they work whatever the
// keyboard layout (on the Russian one r types к, j types о).
const CODES = { KeyJ: "j", KeyK: "k", KeyR: "r", KeyA: "a", KeyE: "e", KeyS: "s", Slash: "/" };

// keyOf is the shortcut a key event means: "?" for help, else the
// physical key's letter, else the character typed.
function keyOf(e) {
  if (e.key === "?" || (e.code === "Slash" && e.shiftKey)) return "?";
  return CODES[e.code] || e.key;
}

const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

function click(sel) {
  const el = document.querySelector(sel);
  if (el && !el.disabled) el.click();
  return !!el;
}

const focusKeys = {
  r: () => document.getElementById("reply-text")?.focus(),
  "/": () => document.getElementById("search")?.focus(),
  a: () => click("#take") || document.getElementById("assign")?.focus(),
};

const actionKeys = {
  j: () => move(1),
  k: () => move(-1),
  e: () => click("#close-conv") || click("#reopen-conv"),
  s: () => click("#snooze-btn"),
};

function active(e) {
  if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return false;
  const s = getState();
  return !!s.me && s.route.page === "inbox";
}

export function installKeys() {
  let pending = "";
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && getState().keysHelp) {
      setState({ keysHelp: false }); // the help closes before a field is left
      return;
    }
    if (e.key === "Escape" && typing(document.activeElement)) {
      document.activeElement.blur();
      return;
    }
    if (!active(e)) return;
    const k = keyOf(e);
    if (k === "?") {
      e.preventDefault();
      setState((s) => ({ keysHelp: !s.keysHelp }));
    } else if (actionKeys[k]) {
      e.preventDefault();
      actionKeys[k]();
    } else if (focusKeys[k]) {
      e.preventDefault();
      pending = e.code || k;
    }
  });
  document.addEventListener("keyup", (e) => {
    if (!pending || (e.code || keyOf(e)) !== pending) return;
    pending = "";
    const k = keyOf(e);
    if (active(e) && focusKeys[k]) focusKeys[k]();
  });
}
