/* 规划任务督办系统 — the top bar's drop-down menus (<details class="nav-menu">).
 * They open and close with their <summary> without this file; it only makes an open menu behave like a menu:
 * one open at a time, closed by a click elsewhere, by Escape (focus goes back to its summary), or when the
 * keyboard focus moves out of it.
 */
(function () {
  "use strict";

  function menuOf(node) {
    return node && node.nodeType === 1 && node.closest ? node.closest("details.nav-menu") : null;
  }

  function closeOthers(keep) {
    Array.prototype.forEach.call(document.querySelectorAll("details.nav-menu[open]"), function (menu) {
      if (menu !== keep) { menu.removeAttribute("open"); }
    });
  }

  document.addEventListener("click", function (event) { closeOthers(menuOf(event.target)); });
  document.addEventListener("focusin", function (event) { closeOthers(menuOf(event.target)); });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" && event.key !== "Esc") { return; }
    var menu = menuOf(document.activeElement) || document.querySelector("details.nav-menu[open]");
    if (!menu || !menu.hasAttribute("open")) { return; }
    menu.removeAttribute("open");
    var summary = menu.querySelector("summary");
    if (summary && menu.contains(document.activeElement)) { summary.focus(); }
  });
})();
