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

// Conversations: a thread's live part (data-conversation-*) refreshes on the account's message
// and typing events; this drops, before any request, the events of other conversations.
(function () {
  "use strict";

  function concerns(wanted, data) {
    if (!data) {
      return false;
    }
    if (wanted.conversationGroup) {
      return data.group_id === wanted.conversationGroup;
    }
    return !data.group_id && data.number === wanted.conversationNumber &&
      data.sendblue_number === wanted.conversationLine;
  }

  document.addEventListener("htmx:confirm", function (event) {
    var element = event.detail.elt;
    if (!element || !element.dataset || element.dataset.conversationLine === undefined) {
      return;
    }
    var trigger = event.detail.triggeringEvent;
    var raw = trigger && trigger.detail && trigger.detail.data;
    if (typeof raw !== "string") {
      return;  // not an event of the stream (a person's click): let it through
    }
    var data = null;
    try {
      data = JSON.parse(raw).data;
    } catch (error) {
      data = null;
    }
    if (!concerns(element.dataset, data)) {
      event.preventDefault();
    }
  });

  // Events are not replayed: what happened between the page's render and the stream's opening
  // (or while it was reconnecting) would be missed. So once the stream is open, every live part
  // (hx-trigger naming "live-refresh") fetches itself once.
  document.addEventListener("htmx:sseOpen", function () {
    document.querySelectorAll('[hx-trigger*="live-refresh"]').forEach(function (element) {
      htmx.trigger(element, "live-refresh");
    });
  });

  // A thread opens on its newest message, and stays there as new ones arrive if the reader
  // was already at the bottom.
  function atBottom() {
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 80;
  }
  var stick = true;
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "thread-live") {
      stick = atBottom();
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (stick && event.detail.target && event.detail.target.id === "thread-live") {
      var live = document.getElementById("thread-live");
      if (live) {
        live.scrollIntoView({block: "end"});
      }
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var live = document.getElementById("thread-live");
    if (live && !window.location.hash) {
      live.scrollIntoView({block: "end"});
    }
  });
})();
