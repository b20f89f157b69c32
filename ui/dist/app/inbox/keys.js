// Keyboard shortcuts of the inbox: j/k next/previous conversation, r reply,
// a assign (or take), e close/reopen, s snooze, / search, Esc leaves a field.
// Shortcuts that move the focus into a field do it on keyup, so the key
// itself is never typed into that field.
import { getState } from "../core/store.js";
import { move } from "./inbox.js";

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
    if (e.key === "Escape" && typing(document.activeElement)) {
      document.activeElement.blur();
      return;
    }
    if (!active(e)) return;
    if (actionKeys[e.key]) {
      e.preventDefault();
      actionKeys[e.key]();
    } else if (focusKeys[e.key]) {
      e.preventDefault();
      pending = e.key;
    }
  });
  document.addEventListener("keyup", (e) => {
    if (e.key !== pending) return;
    pending = "";
    if (active(e)) focusKeys[e.key]();
  });
}
