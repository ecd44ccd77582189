// A client ticked in the search results moves to the chosen list, so a new search keeps it.
(function () {
  "use strict";
  const results = document.getElementById("target-results");
  if (!results) return;
  results.addEventListener("change", function (event) {
    const box = event.target;
    if (box.name !== "clients" || !box.checked) return;
    const chosen = document.getElementById("selected-targets");
    if (chosen.querySelector('input[value="' + box.value + '"]')) { box.closest("li").remove(); return; }
    const label = box.closest("label");
    label.className = "form-check form-check-inline";
    chosen.appendChild(label);
  });
})();
