// Actual satisfaction against the base and target values (data from the targets-data JSON
// block; the translated series names come from the <script> tag's data attributes).
(function () {
  const labels = document.currentScript.dataset;
  const d = JSON.parse(JSON.parse(document.getElementById("targets-data").textContent));
  const palette = ["#6f42c1", "#20c997", "#0dcaf0", "#fd7e14", "#d63384"];
  const datasets = [
    {type: "bar", label: labels.actual, data: d.actual, backgroundColor: "#0d6efd", order: 2},
    {type: "line", label: labels.base, data: d.base, borderColor: "#ffc107", backgroundColor: "#ffc107", showLine: false, pointStyle: "line", pointRadius: 22, pointBorderWidth: 4, order: 0},
    {type: "line", label: labels.target, data: d.target, borderColor: "#198754", backgroundColor: "#198754", showLine: false, pointStyle: "line", pointRadius: 22, pointBorderWidth: 4, order: 0},
  ];
  // One branch shown is the figure itself; with several, each can be switched on in the legend.
  if (d.branches.length > 1) d.branches.forEach((b, i) => datasets.push({type: "bar", label: b.label, data: b.data, backgroundColor: palette[i % palette.length] + "99", hidden: true, order: 3}));
  new Chart(document.getElementById("targets-chart"), {data: {labels: d.labels, datasets},
    options: {animation: false, scales: {y: {min: 0, max: 100, ticks: {callback: v => v + "%"}}}}});
})();
