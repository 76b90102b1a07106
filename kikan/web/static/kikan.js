/* Keyboard shortcuts of the staff UI (documented on every page, see docs/ui.md).
   "/" focuses the search field, Ctrl+Enter submits the form being filled in, Esc leaves a
   confirmation step, arrow keys move through result rows. No framework: htmx does the rest. */
(function () {
  "use strict";
  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }
  /* accesskeys behave the same in every browser: Alt+Shift+letter (or Alt+letter) activates the
     element carrying accesskey="letter" — links and buttons are clicked, fields focused */
  function accessKey(ev) {
    if (!ev.altKey || ev.ctrlKey || ev.metaKey || !ev.code || ev.code.indexOf("Key") !== 0) return false;
    var letter = ev.code.slice(3).toLowerCase();
    var sel = '[accesskey="' + letter + '"]';
    var target = document.querySelector("main " + sel) || document.querySelector(sel);
    if (!target) return false;
    ev.preventDefault();
    if (target.tagName === "A" || target.tagName === "BUTTON") { target.click(); }
    else { target.focus(); if (target.select) target.select(); }
    return true;
  }
  document.addEventListener("keydown", function (ev) {
    if (accessKey(ev)) return;
    var active = document.activeElement;
    if (ev.key === "/" && !typing(active)) {
      var search = document.querySelector("[data-search-input]");
      if (search) { ev.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      var form = active && active.form ? active.form : document.querySelector("form[data-primary]");
      if (form) {
        ev.preventDefault();
        /* submit with the form's primary button, so its name/value (e.g. action=commit) is sent */
        var primary = form.querySelector("button.primary[type=submit]");
        form.requestSubmit(primary || undefined);
      }
      return;
    }
    if (ev.key === "Escape") {
      var back = document.querySelector("[data-back]");
      if (back) { ev.preventDefault(); back.click(); }
      return;
    }
    if ((ev.key === "ArrowDown" || ev.key === "ArrowUp") && active) {
      var rows = Array.prototype.slice.call(document.querySelectorAll("[data-row-link]"));
      if (!rows.length) return;
      var inSearch = active.hasAttribute("data-search-input");
      var idx = rows.indexOf(active);
      if (inSearch && ev.key === "ArrowDown") { ev.preventDefault(); rows[0].focus(); return; }
      if (idx >= 0) {
        ev.preventDefault();
        var next = idx + (ev.key === "ArrowDown" ? 1 : -1);
        if (next < 0) { var s = document.querySelector("[data-search-input]"); if (s) s.focus(); }
        else if (next < rows.length) rows[next].focus();
      }
    }
  });
  /* buttons that print the page (no inline handlers: the Content-Security-Policy refuses them) */
  document.addEventListener("click", function (ev) {
    var button = ev.target && ev.target.closest ? ev.target.closest("[data-print]") : null;
    if (button) { ev.preventDefault(); window.print(); }
  });
  /* after an htmx swap that carries validation problems, put the focus on the first one */
  document.addEventListener("htmx:afterSwap", function (ev) {
    var bad = ev.target.querySelector("[aria-invalid='true'], [data-autofocus]");
    if (bad) bad.focus();
  });
  /* marks the document as interactive: shortcuts pressed before this point would be lost, and
     the browser tests wait for it instead of guessing */
  document.documentElement.setAttribute("data-kikan-ready", "");
})();
