// The action-priority matrix of the survey analysis (data from the matrix-data JSON block).
(function () {
  const m = JSON.parse(JSON.parse(document.getElementById("matrix-data").textContent));
  const el = document.getElementById("matrix-chart");
  if (!el || !m.points.length) return;
  const colors = {priority: "#dc3545", strength: "#198754", secondary: "#fd7e14", maintain: "#6c757d"};
  const quadrants = {
    id: "quadrants",
    afterDraw(chart) {
      const {ctx, chartArea: a, scales: {x, y}} = chart;
      const cx = x.getPixelForValue(m.x_mid), cy = y.getPixelForValue(m.y_mid);
      ctx.save();
      ctx.strokeStyle = "#adb5bd"; ctx.setLineDash([5, 4]);
      ctx.beginPath(); ctx.moveTo(cx, a.top); ctx.lineTo(cx, a.bottom); ctx.moveTo(a.left, cy); ctx.lineTo(a.right, cy); ctx.stroke();
      ctx.setLineDash([]); ctx.font = "bold 13px sans-serif"; ctx.globalAlpha = 0.75;
      ctx.fillStyle = colors.priority; ctx.textAlign = "right"; ctx.fillText(m.labels.priority, a.right - 6, a.bottom - 8);
      ctx.fillStyle = colors.strength; ctx.fillText(m.labels.strength, a.right - 6, a.top + 16);
      ctx.fillStyle = colors.secondary; ctx.textAlign = "left"; ctx.fillText(m.labels.secondary, a.left + 6, a.bottom - 8);
      ctx.fillStyle = colors.maintain; ctx.fillText(m.labels.maintain, a.left + 6, a.top + 16);
      ctx.globalAlpha = 1; ctx.fillStyle = "#212529"; ctx.font = "12px sans-serif"; ctx.textAlign = "left";
      // Points on the same spot get their labels stacked rather than printed over each other.
      const seen = {};
      chart.getDatasetMeta(0).data.forEach((pt, i) => {
        const key = Math.round(pt.x) + ":" + Math.round(pt.y);
        const n = seen[key] = (seen[key] || 0) + 1;
        ctx.fillText(m.points[i].label, pt.x + 9, pt.y - 6 + (n - 1) * 15);
      });
      ctx.restore();
    }
  };
  const xs = m.points.map(p => p.x), ys = m.points.map(p => p.y);
  new Chart(el, {
    type: "scatter",
    data: {datasets: [{data: m.points.map(p => ({x: p.x, y: p.y})), pointRadius: 7,
      pointBackgroundColor: m.points.map(p => colors[p.quadrant])}]},
    options: {animation: false, plugins: {legend: {display: false},
      tooltip: {callbacks: {label: c => `${m.points[c.dataIndex].label}: ${c.parsed.y}%`}}},
      scales: {x: {grace: "10%", title: {display: true, text: m.axes.x}, suggestedMin: Math.min(...xs) * 0.8, suggestedMax: Math.max(...xs) * 1.15},
               y: {title: {display: true, text: m.axes.y}, min: Math.max(0, Math.floor((Math.min(...ys) - 10) / 10) * 10), max: Math.max(...ys) > 90 ? 110 : Math.min(100, Math.ceil((Math.max(...ys) + 10) / 10) * 10), ticks: {callback: v => v <= 100 ? v : ""}}}},
    plugins: [quadrants]
  });
})();
