// The rule editor's "Simulate" button: send the form as it stands to the simulate view and show
// the answer beside the form, with each field's errors (did-you-mean suggestions included) at
// the field, without saving the rule. Without this script the button opens the simulation in a
// new tab. A static file: the Content-Security-Policy forbids inline scripts.
"use strict";

(function () {
  function clearFieldErrors(form) {
    form.querySelectorAll("ul.errorlist.simulation-error").forEach(function (list) { list.remove(); });
    form.querySelectorAll(".form-row.errors.simulation-error").forEach(function (row) {
      row.classList.remove("errors", "simulation-error");
    });
  }

  function showFieldErrors(form, errors) {
    Object.keys(errors).forEach(function (field) {
      var row = form.querySelector(".form-row.field-" + field);
      if (!row) { return; }
      var list = document.createElement("ul");
      list.className = "errorlist simulation-error";
      list.id = "simulation-errors-" + field;
      errors[field].forEach(function (message) {
        var item = document.createElement("li");
        item.textContent = message;
        list.appendChild(item);
      });
      if (!row.classList.contains("errors")) { row.classList.add("errors", "simulation-error"); }
      row.insertBefore(list, row.firstChild);
    });
  }

  function simulate(button) {
    var form = button.form;
    var panel = document.getElementById("simulation");
    var body = document.getElementById("simulation-body");
    panel.classList.add("busy");
    clearFieldErrors(form);
    fetch(button.getAttribute("formaction"), {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (!response.ok) { throw new Error("the server answered " + response.status); }
        return response.json();
      })
      .then(function (answer) {
        body.innerHTML = answer.html;  // rendered by Django's templates, escaped there
        showFieldErrors(form, answer.errors || {});
        panel.dataset.state = Object.keys(answer.errors || {}).length ? "errors" : "done";
      })
      .catch(function (error) {
        body.textContent = "Simulation failed: " + error.message;
        panel.dataset.state = "failed";
      })
      .finally(function () { panel.classList.remove("busy"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("simulate-button");
    if (!button || !document.getElementById("simulation")) { return; }
    button.addEventListener("click", function (event) {
      event.preventDefault();
      simulate(button);
    });
  });
})();
