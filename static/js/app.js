// Behaviour every page shares, wired by data attributes, so templates carry no inline script
// or on*= handler (the Content-Security-Policy allows scripts from our own files only).
(function () {
  "use strict";
  // <select data-autosubmit>: submit the form on change (the language switch).
  document.addEventListener("change", function (event) {
    const el = event.target.closest && event.target.closest("[data-autosubmit]");
    if (el && el.form) el.form.submit();
  });

  document.addEventListener("click", function (event) {
    if (!event.target.closest) return;
    // <button data-confirm="...">: ask before the click goes ahead.
    const ask = event.target.closest("[data-confirm]");
    if (ask && !window.confirm(ask.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    // <button data-print>: print the page.
    if (event.target.closest("[data-print]")) window.print();
    // <button data-copy-target="#id" data-copied-label="...">: copy that field's value.
    const copy = event.target.closest("[data-copy-target]");
    if (copy) {
      const field = document.querySelector(copy.dataset.copyTarget);
      if (field && navigator.clipboard) navigator.clipboard.writeText(field.value);
      if (copy.dataset.copiedLabel) copy.textContent = copy.dataset.copiedLabel;
    }
  });
})();
