// api is the one way the UI talks to the server: JSON in and out, the
// session's CSRF token on every unsafe request, and errors as ApiError
// with the API's stable code (docs/api.md, "Errors").

let csrf = "";
let sessionLost = () => {};

export function setCSRF(token) {
  csrf = token || "";
}

// onSessionLost registers what to do when a request answers 401.
export function onSessionLost(fn) {
  sessionLost = fn;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
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
