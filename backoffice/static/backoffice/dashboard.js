/* The Pitboss dashboard's charts (Chart.js, vendored by scripts/vendor_chartjs.sh).
 *
 * The figures come from the page's json_script block "dashboard-data" (backoffice/dashboard.py);
 * money arrives as decimal strings in the reporting currency and is turned into numbers only to
 * draw. Clicking a bar opens the workflow behind it (players of a segment, rewards of a rule,
 * open flags of a signal). `window.pitbossCharts` lists the charts drawn (the browser test
 * reads it).
 */
(function () {
  "use strict";

  const PALETTE = ["#417690", "#e0a800", "#79aec8", "#ba2121", "#5b8c5a", "#8e6bb8",
    "#d97b29", "#2f4f4f", "#c76b98", "#7a7a7a"];

  function number(value) {
    return value === null || value === undefined ? null : Number(value);
  }

  function colour(index) {
    return PALETTE[index % PALETTE.length];
  }

  function opener(urls) {
    return function (event, elements) {
      if (elements.length && urls[elements[0].index]) {
        window.location.href = urls[elements[0].index];
      }
    };
  }

  function draw(id, config) {
    const canvas = document.getElementById(id);
    if (!canvas) {
      return null;
    }
    config.options = Object.assign(
      { responsive: true, maintainAspectRatio: false, animation: false },
      config.options || {}
    );
    const chart = new window.Chart(canvas, config);
    window.pitbossCharts.push(chart);
    return chart;
  }

  function segmentsChart(data) {
    const rows = data.segments.segments;
    const money = [["turnover", "turnover"], ["ggr", "GGR"], ["ngr", "NGR"], ["bonus_cost", "bonus cost"]];
    const datasets = [{
      label: "players", data: rows.map((r) => r.players), backgroundColor: colour(0), yAxisID: "players",
    }];
    money.forEach(([key, label], n) => {
      datasets.push({
        label: label + " (" + data.currency + ")",
        data: rows.map((r) => number(r[key])),
        backgroundColor: colour(n + 1),
        yAxisID: "money",
      });
    });
    draw("chart-segments", {
      type: "bar",
      data: { labels: rows.map((r) => r.segment), datasets: datasets },
      options: {
        onClick: opener(rows.map((r) => r.url)),
        scales: {
          players: { position: "left", beginAtZero: true, title: { display: true, text: "players" } },
          money: { position: "right", grid: { drawOnChartArea: false },
            title: { display: true, text: data.currency } },
        },
      },
    });
  }

  function perRuleChart(id, data, key, axis) {
    const rules = data.rewards.rules;
    draw(id, {
      type: "bar",
      data: {
        labels: data.rewards.days,
        datasets: rules.map((rule, n) => ({
          label: rule.name, data: rule[key].map(number), backgroundColor: colour(n),
        })),
      },
      options: {
        onClick: function (event, elements) {
          if (elements.length) {
            window.location.href = rules[elements[0].datasetIndex].url;
          }
        },
        scales: {
          x: { stacked: true, ticks: { maxTicksLimit: 10 } },
          y: { stacked: true, beginAtZero: true, title: { display: true, text: axis } },
        },
      },
    });
  }

  function shareChart(data) {
    const days = data.bonus_share.days;
    draw("chart-bonus-share", {
      type: "bar",
      data: {
        labels: days.map((d) => d.day),
        datasets: [
          { type: "line", label: "bonus cost / GGR (%)", yAxisID: "share", borderColor: colour(3),
            backgroundColor: colour(3), spanGaps: true, pointRadius: 2,
            data: days.map((d) => (d.share === null ? null : Number(d.share) * 100)) },
          { label: "GGR (" + data.currency + ")", yAxisID: "money", backgroundColor: colour(2),
            data: days.map((d) => number(d.ggr)) },
          { label: "bonus cost (" + data.currency + ")", yAxisID: "money", backgroundColor: colour(1),
            data: days.map((d) => number(d.bonus_cost)) },
        ],
      },
      options: {
        scales: {
          x: { ticks: { maxTicksLimit: 10 } },
          share: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
            title: { display: true, text: "% of GGR" } },
          money: { position: "left", title: { display: true, text: data.currency } },
        },
      },
    });
  }

  function flagsChart(data) {
    const flags = data.flags;
    draw("chart-flags", {
      type: "bar",
      data: {
        labels: flags.map((f) => f.signal),
        datasets: [{ label: "open flags", data: flags.map((f) => f.open), backgroundColor: colour(3) }],
      },
      options: {
        indexAxis: "y",
        onClick: opener(flags.map((f) => f.url)),
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  function start() {
    window.pitbossCharts = [];
    const source = document.getElementById("dashboard-data");
    if (!source || !window.Chart) {
      return;
    }
    const data = JSON.parse(source.textContent);
    segmentsChart(data);
    perRuleChart("chart-rewards", data, "issued", "rewards issued");
    perRuleChart("chart-rewards-cost", data, "cost", data.currency);
    shareChart(data);
    flagsChart(data);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
