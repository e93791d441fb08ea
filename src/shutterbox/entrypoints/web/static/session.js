/*
 * The session of the logged-in viewer, for scripts that call the API from a page.
 *
 * Pages of a logged-in viewer carry <meta name="csrf-token">; sbFetch(url, options) is fetch
 * with the session cookie (credentials: "same-origin") and, for requests that change state,
 * that token in the X-CSRF-Token header, which the API requires of cookie-authenticated
 * writes. Also available as shutterbox.sbFetch and shutterbox.csrfToken().
 */
(function () {
  "use strict";

  const SAFE_METHODS = ["GET", "HEAD", "OPTIONS"];

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") || "" : "";
  }

  function sbFetch(url, options) {
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

  const namespace = window.shutterbox || (window.shutterbox = {});
  namespace.sbFetch = sbFetch;
  namespace.csrfToken = csrfToken;
  window.sbFetch = sbFetch;
})();
