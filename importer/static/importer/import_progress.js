// An import job's page: poll the job's JSON status and move the progress bar until the job has
// succeeded or failed, then show the error report link if there is one. A static file: the
// Content-Security-Policy forbids inline scripts.
"use strict";

(function () {
  var INTERVAL_MS = 1000;

  function show(panel, job) {
    var bar = panel.querySelector("progress");
    if (job.status === "failed") {  // nothing was imported: no bar to fill (as in the list)
      bar.hidden = true;
      panel.querySelector(".import-percent").hidden = true;
    }
    bar.value = job.percent;
    panel.querySelector(".import-percent").textContent = job.percent + "%";
    panel.querySelector(".import-status").textContent = job.status;
    panel.querySelector(".import-stage").textContent = job.stage_label;
    panel.querySelector(".import-rows").textContent = job.rows_done + " / " + job.rows_total;
    panel.querySelector(".import-rejected").textContent = job.rows_rejected;
    panel.querySelector(".import-message").textContent = job.message || "";
    var report = panel.querySelector(".import-error-report");
    if (job.error_report_url) {
      report.href = job.error_report_url;
      report.hidden = false;
    }
    panel.dataset.state = job.status;
  }

  function poll(panel) {
    fetch(panel.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (job) {
        show(panel, job);
        if (!job.finished) {
          window.setTimeout(poll, INTERVAL_MS, panel);
        } else {
          // the fields below were rendered while the job ran: offer them fresh
          panel.querySelector(".import-reload").hidden = false;
        }
      })
      .catch(function () { window.setTimeout(poll, INTERVAL_MS * 5, panel); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var panel = document.getElementById("import-progress");
    if (panel && ["queued", "running"].indexOf(panel.dataset.state) !== -1) { poll(panel); }
  });
})();
