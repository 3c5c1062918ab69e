/* Opsportal browser behaviour: live SLA countdowns, ages and visible htmx errors. No framework.
 *
 * Countdowns: every element with data-deadline (UTC ISO time) is rewritten once a second from the
 * browser's clock, so no request is needed for the ticking. Ages ("4m ago") work the same way from
 * data-since, so a panel whose poll answers 204 (nothing changed) still shows the right age. The
 * scan runs every second over the whole document, so rows that htmx swaps in keep ticking without
 * extra wiring.
 */
(function () {
  "use strict";

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  /* Same shape as the server's first frame (incident_ui.compact): two units, largest first. */
  function compact(ms) {
    var total = Math.floor(Math.abs(ms) / 1000);
    var days = Math.floor(total / 86400);
    var hours = Math.floor((total % 86400) / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var seconds = total % 60;
    if (days) return days + "d " + hours + "h";
    if (hours) return hours + "h " + pad(minutes) + "m";
    if (minutes) return minutes + "m " + pad(seconds) + "s";
    return seconds + "s";
  }

  /* Same shape as the server's ``ago`` filter (incident_ui.ago): minutes at the finest. */
  function ago(ms) {
    if (ms < 60000) return "just now";
    var total = Math.floor(ms / 60000);
    var days = Math.floor(total / 1440);
    var hours = Math.floor((total % 1440) / 60);
    var minutes = total % 60;
    if (days) return days + "d " + hours + "h ago";
    if (hours) return hours + "h " + pad(minutes) + "m ago";
    return minutes + "m ago";
  }

  function tickAges(now) {
    var nodes = document.querySelectorAll("[data-since]");
    for (var i = 0; i < nodes.length; i++) {
      var since = Date.parse(nodes[i].getAttribute("data-since"));
      if (isNaN(since)) continue;
      var text = ago(Math.max(0, now - since));
      if (nodes[i].textContent !== text) nodes[i].textContent = text;
    }
  }

  function tick() {
    var now = Date.now();
    tickAges(now);
    var nodes = document.querySelectorAll("[data-deadline]");
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      var deadline = Date.parse(el.getAttribute("data-deadline"));
      if (isNaN(deadline)) continue;
      var left = deadline - now;
      var text = left >= 0 ? compact(left) : "-" + compact(left);
      if (el.textContent !== text) el.textContent = text;
      var start = Date.parse(el.getAttribute("data-start") || "");
      var windowMs = isNaN(start) ? 0 : deadline - start;
      // A breach the server recorded stays red even if the clock was reset (severity change).
      var breached = left < 0 || el.hasAttribute("data-breached");
      // Amber in the last fifth of the window: time to look, not yet late.
      var soon = !breached && windowMs > 0 && left < windowMs * 0.2;
      el.classList.toggle("is-breached", breached);
      el.classList.toggle("is-soon", soon);
    }
  }

  function showToast(text) {
    var toast = document.getElementById("toast");
    if (!toast) return;
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(showToast.timer);
    showToast.timer = setTimeout(function () { toast.hidden = true; }, 6000);
  }

  function fadeMessages() {
    var nodes = document.querySelectorAll(".msg-success:not(.is-fading), .msg-info:not(.is-fading)");
    Array.prototype.forEach.call(nodes, function (el) {
      setTimeout(function () {
        el.classList.add("is-fading");
        setTimeout(function () { el.remove(); }, 700);
      }, 5000);
    });
  }

  // <form data-confirm="Question?">: ask before submitting. Inline onsubmit handlers are refused
  // by the Content Security Policy (docs/security.md), so the question lives in an attribute.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    fadeMessages();
    setInterval(tick, 1000);
  });

  // A 4xx marked X-Inline-Error carries a form error to swap in place. Under DEBUG, django-htmx's
  // script would replace the whole page with any 400; stop the event before it reaches document.
  document.addEventListener("DOMContentLoaded", function () {
    document.body.addEventListener("htmx:beforeOnLoad", function (event) {
      var xhr = event.detail.xhr;
      if (xhr && xhr.getResponseHeader("X-Inline-Error") === "true") event.stopPropagation();
    });
  });

  // A poll or action after the session expired follows the redirect to the login page: go there
  // as a whole page instead of swapping a login form into the table.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.responseURL && xhr.responseURL.indexOf("/accounts/login/") !== -1) {
      event.preventDefault();
      window.location.href = xhr.responseURL;
    }
  });

  document.addEventListener("htmx:afterSwap", function () {
    tick();
    fadeMessages();
  });
  document.addEventListener("htmx:oobAfterSwap", fadeMessages);

  // Answers htmx does not swap (404, 5xx, network): say so instead of failing silently.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var status = xhr ? xhr.status : 0;
    var verb = (event.detail.requestConfig && event.detail.requestConfig.verb) || "get";
    if (verb === "get" && status >= 500) {
      return showToast("Refresh failed (" + status + "); showing the last data we got.");
    }
    showToast(status === 404 ? "Not found: it may have been deleted." :
      "The server answered " + status + ". Nothing was changed; try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    showToast("Cannot reach Opsportal. Check your connection; the page keeps its last data.");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) {
      var toast = document.getElementById("toast");
      if (toast && !toast.hidden && toast.textContent.indexOf("Cannot reach") === 0) toast.hidden = true;
    }
  });
})();
