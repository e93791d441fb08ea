/*
 * Calling this site from a page: every page script imports these instead of calling fetch.
 *
 *   csrfToken() -> the session's CSRF token (the page's <meta name="csrf-token">), or ""
 *   apiFetch(url, options) -> fetch with the session cookie (credentials: "same-origin"),
 *       Accept: application/json unless given, and for requests that change state the CSRF
 *       token in the X-CSRF-Token header, which cookie-authenticated writes need
 *   problem(response) -> the API's error message (its JSON "detail"), else "the server
 *       answered <status>"
 *   fetchJSON(url, options) -> the parsed body of a 2xx answer; throws an Error whose message
 *       is problem(response) otherwise
 *   fetchHTML(url, options) -> {fragment, response}: a 2xx answer's HTML (this site's own
 *       templates) as a DocumentFragment; throws like fetchJSON otherwise
 */

const SAFE_METHODS = ["GET", "HEAD", "OPTIONS"];

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute("content") || "" : "";
}

export function apiFetch(url, options) {
  const init = Object.assign({}, options || {});
  const method = (init.method || "GET").toUpperCase();
  const headers = new Headers(init.headers || {});
  const token = csrfToken();
  if (token && !SAFE_METHODS.includes(method)) {
    headers.set("X-CSRF-Token", token);
  }
  if (!headers.has("Accept")) {
    headers.set("Accept", "application/json");
  }
  init.method = method;
  init.headers = headers;
  init.credentials = "same-origin";
  return fetch(url, init);
}

export async function problem(response) {
  try {
    const body = await response.json();
    if (body && typeof body.detail === "string") {
      return body.detail;
    }
  } catch (ignored) {
    // not JSON: fall through
  }
  return "the server answered " + response.status;
}

export async function fetchJSON(url, options) {
  const response = await apiFetch(url, options);
  if (!response.ok) {
    throw new Error(await problem(response));
  }
  return response.json();
}

export async function fetchHTML(url, options) {
  const init = Object.assign({}, options || {});
  init.headers = new Headers(init.headers || {});
  init.headers.set("Accept", "text/html");
  const response = await apiFetch(url, init);
  if (!response.ok) {
    throw new Error("the server answered " + response.status);
  }
  const template = document.createElement("template");
  template.innerHTML = await response.text(); // our own escaped markup: scripts stay inert
  return { fragment: template.content, response: response };
}
