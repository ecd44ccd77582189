// The client page's tabs: each is a link to its own address, loaded into the page by htmx
// (hx-get, hx-push-url), so the address bar, a reload and the back button follow the tab.
// Here: mark the tab being opened, send the old #contacts addresses to the tab's address, and
// print the whole file when the print view (?print=1) opens.
(function () {
  "use strict";
  function mark(key) {
    document.querySelectorAll("#client-tabs [data-tab]").forEach(function (a) {
      const on = a.dataset.tab === key;
      a.classList.toggle("active", on);
      a.setAttribute("aria-selected", on ? "true" : "false");
    });
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    const link = event.detail.elt;
    if (link && link.closest && link.closest("#client-tabs")) mark(link.dataset.tab);
  });
  // The address the page now shows decides the tab (after the back button too).
  document.addEventListener("htmx:historyRestore", function () {
    const pane = document.querySelector("#tab-pane [data-tab]");
    if (pane) mark(pane.dataset.tab);
  });
  if (location.hash) {
    const old = document.querySelector('#client-tabs [data-tab="' + location.hash.slice(1) + '"]');
    if (old) location.replace(old.href);
  }
  if (document.querySelector("[data-autoprint]")) {
    window.addEventListener("load", function () { window.print(); });
  }
})();
