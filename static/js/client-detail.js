// The client page's tabs follow the address: #contacts opens that tab, a tab shown updates it.
(function () {
  "use strict";
  function show(hash) {
    const btn = document.querySelector('#client-tabs [data-bs-target="' + hash + '"]');
    if (btn) bootstrap.Tab.getOrCreateInstance(btn).show();
  }
  if (location.hash) show(location.hash);
  document.querySelectorAll("#client-tabs button").forEach(function (b) {
    b.addEventListener("shown.bs.tab", function () { history.replaceState(null, "", b.dataset.bsTarget); });
  });
})();
