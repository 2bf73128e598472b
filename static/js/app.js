/* 规划任务督办系统 — small progressive enhancements. Every page works without this file.
 *  - <button type="submit" data-confirm="确定删除吗？">: asks confirm() before the form is sent
 *    (also honoured on <form data-confirm="…"> and on links <a data-confirm="…">).
 *  - <form data-autosubmit>: changing a <select> inside it submits the form.
 *    Put class "js-hide" on that form's submit button to hide it when JS is running.
 */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function closestWith(el, selector) {
    while (el && el.nodeType === 1) {
      if (el.matches(selector)) { return el; }
      el = el.parentElement;
    }
    return null;
  }

  // (a) Confirmation on submit buttons and links. Implicit submission (Enter in a field)
  // fires a click on the form's default button, so this covers it too.
  document.addEventListener("click", function (event) {
    var el = closestWith(event.target, "[data-confirm]");
    if (!el || el.tagName === "FORM") { return; }
    if (!window.confirm(el.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    } else if (el.form) {
      el.form.setAttribute("data-confirmed", "1");
    }
  }, true);

  // A form-level data-confirm, unless its button already asked.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-confirm")) { return; }
    if (form.getAttribute("data-confirmed") === "1") { form.removeAttribute("data-confirmed"); return; }
    if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
  });

  // (b) Auto-submitting filter forms.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target || target.tagName !== "SELECT") { return; }
    var form = closestWith(target, "form[data-autosubmit]");
    if (!form) { return; }
    if (typeof form.requestSubmit === "function") { form.requestSubmit(); } else { form.submit(); }
  });
})();

/* ---- Briefings (督查通报) ----
 *  - <form data-preview-url="…" data-preview-frame="name">: while the office types, the form is posted (with its
 *    CSRF token) to the preview route into the named sandboxed <iframe>; the page itself never navigates.
 *  - <section data-poll-status="…/status" data-poll-current="rendering">: polls the small status endpoint and
 *    reloads the page once the status changes (the PDF is ready, or failed).
 */
(function () {
  "use strict";

  function postPreview(form) {
    var action = form.getAttribute("action");
    var target = form.getAttribute("target");
    form.setAttribute("action", form.getAttribute("data-preview-url"));
    form.setAttribute("target", form.getAttribute("data-preview-frame"));
    HTMLFormElement.prototype.submit.call(form);
    if (action === null) { form.removeAttribute("action"); } else { form.setAttribute("action", action); }
    if (target === null) { form.removeAttribute("target"); } else { form.setAttribute("target", target); }
  }

  function watchPreview(form) {
    var timer = null;
    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { postPreview(form); }, 600);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    var frame = document.getElementsByName(form.getAttribute("data-preview-frame"))[0];
    if (frame && frame.getAttribute("src") === "about:blank") { postPreview(form); }
  }

  function pollStatus(box) {
    var url = box.getAttribute("data-poll-status");
    var current = box.getAttribute("data-poll-current");
    function check() {
      window.fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (answer) {
          if (answer && answer.status !== current) { window.location.reload(); } else { window.setTimeout(check, 2000); }
        })
        .catch(function () { window.setTimeout(check, 5000); });
    }
    window.setTimeout(check, 1500);
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-preview-url]"), watchPreview);
    Array.prototype.forEach.call(document.querySelectorAll("[data-poll-status]"), pollStatus);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
