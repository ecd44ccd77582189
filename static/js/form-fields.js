// Bootstrap classes for the fields of forms rendered with {{ form }}: the <script> tag says which
// fields (data-selects, data-inputs) and whether small (data-size="sm").
(function () {
  "use strict";
  const opts = document.currentScript.dataset;
  const sm = opts.size === "sm";
  if (opts.selects) {
    document.querySelectorAll(opts.selects).forEach(function (e) {
      e.classList.add("form-select");
      if (sm) e.classList.add("form-select-sm");
    });
  }
  if (opts.inputs) {
    document.querySelectorAll(opts.inputs).forEach(function (e) {
      e.classList.add("form-control");
      if (sm) e.classList.add("form-control-sm");
    });
  }
})();
