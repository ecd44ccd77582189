// Charts of the managers' dashboard (R35), from the JSON the page carries. Every segment opens
// the list of records behind it (the same URLs as the tables).
(function () {
  var el = document.getElementById("dashboard-data");
  if (!el || !window.Chart) return;
  var data = JSON.parse(el.textContent);
  var colours = { A: "#198754", B: "#0d6efd", C: "#adb5bd" };
  var grades = ["A", "B", "C"];
  Chart.defaults.font.family = "'WenQuanYi Micro Hei', 'Microsoft YaHei', sans-serif";
  Chart.defaults.animation = false; // prints as shown

  function open(urls) {
    return function (evt, elements) {
      if (!elements.length) return;
      var e = elements[0];
      var url = urls(e.datasetIndex, e.index);
      if (url) window.location.href = url;
    };
  }

  var rows = data.grades.rows;
  new Chart(document.getElementById("chart-grades"), {
    type: "bar",
    data: {
      labels: rows.map(function (r) { return r.branch; }),
      datasets: grades.map(function (g, i) {
        return { label: g, backgroundColor: colours[g], data: rows.map(function (r) { return r.cells[i].value; }) };
      })
    },
    options: {
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } },
      onClick: open(function (ds, i) { return rows[i].cells[ds].url; })
    }
  });

  var history = data.grade_history;
  new Chart(document.getElementById("chart-history"), {
    type: "line",
    data: {
      labels: history.map(function (h) { return h.period; }),
      datasets: grades.map(function (g) {
        return { label: g, borderColor: colours[g], backgroundColor: colours[g], data: history.map(function (h) { return h[g]; }) };
      })
    },
    options: {
      scales: { y: { beginAtZero: true } },
      onClick: open(function (ds, i) { return history[i].urls[grades[ds]]; })
    }
  });

  var funnel = data.funnel;
  new Chart(document.getElementById("chart-funnel"), {
    type: "bar",
    data: {
      labels: funnel.map(function (s) { return s.label; }),
      datasets: [{ label: "", backgroundColor: "#6f42c1", data: funnel.map(function (s) { return s.value; }) }]
    },
    options: {
      indexAxis: "y",
      plugins: { legend: { display: false } },
      onClick: open(function (ds, i) { return funnel[i].url; })
    }
  });
})();
