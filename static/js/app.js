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
