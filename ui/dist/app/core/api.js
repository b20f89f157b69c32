// api is the one way the UI talks to the server: JSON in and out, the
// session's CSRF token on every unsafe request, and errors as ApiError
// with the API's stable code (docs/api.md, "Errors").

import { t } from "./i18n.js";

let csrf = "";
let sessionLost = () => {};

export function setCSRF(token) {
  csrf = token || "";
}

// onSessionLost registers what to do when a request answers 401.
export function onSessionLost(fn) {
  sessionLost = fn;
}

// ApiError's message is what to show the user, in the UI's language: a
// localized headline for the code, then the server's detail (which names
// the field or the object) when it adds something. detail is the server's
// own text.
export class ApiError extends Error {
  constructor(status, code, detail) {
    super(describe(code, detail));
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

// Codes whose detail says nothing more than the headline.
const whole = new Set(["network", "internal", "too_large", "csrf", "unauthorized", "unavailable"]);

function describe(code, detail) {
  const head = t("error." + code, {}, "");
  if (!head) return detail;
  if (whole.has(code) || !detail) return head;
  // The server's text starts with its own English kind ("not found: deal 7").
  const rest = detail.replace(/^(not found|forbidden|invalid|conflict|bad request body|bad query parameter)\s*:\s*/i, "");
  return head + ": " + rest;
}

export async function api(method, path, body) {
  const opt = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    opt.headers["Content-Type"] = "application/json";
    opt.body = JSON.stringify(body);
  }
  if (method !== "GET" && method !== "HEAD") opt.headers["X-CSRF-Token"] = csrf;
  let r;
  try {
    r = await fetch(path, opt);
  } catch (e) {
    throw new ApiError(0, "network", e.message);
  }
  const data = r.status === 204 ? {} : await r.json().catch(() => ({}));
  if (!r.ok) {
    const e = data.error || {};
    const err = new ApiError(r.status, e.code || "http_" + r.status, e.message || r.statusText);
    if (r.status === 401 && path !== "/api/v1/login") sessionLost(err);
    throw err;
  }
  return data;
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body);
export const patch = (path, body) => api("PATCH", path, body);

// qs builds a query string from the set values of params.
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") u.set(k, v);
  const s = u.toString();
  return s ? "?" + s : "";
}
