// Reloads the page while work it shows is running: an element with data-auto-refresh="<seconds>".
(function () {
  var el = document.querySelector("[data-auto-refresh]");
  if (!el) return;
  var seconds = parseInt(el.getAttribute("data-auto-refresh"), 10) || 3;
  setTimeout(function () { window.location.reload(); }, seconds * 1000);
})();
