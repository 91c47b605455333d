// The console's own script; htmx does the rest. No inline script exists on any page (the
// Content-Security-Policy allows only files served by the console), so behaviour lives here.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // Every htmx request that changes something carries the session's CSRF token. htmx sends
  // requests to this origin only (selfRequestsOnly), so the token never leaves it.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) {
      event.detail.headers["X-CSRF-Token"] = token;
    }
  });

  // A live page's event stream was refused. If that is because the session ended (the page
  // itself now redirects to sign-in), go there; otherwise htmx's SSE extension retries.
  document.addEventListener("htmx:sseError", function (event) {
    var source = event.detail && event.detail.source;
    if (!source || source.readyState !== EventSource.CLOSED) {
      return;
    }
    fetch(window.location.href, {method: "HEAD", redirect: "manual", credentials: "same-origin"})
      .then(function (response) {
        if (response.type === "opaqueredirect") {
          window.location.reload();
        }
      })
      .catch(function () {});
  });
})();
