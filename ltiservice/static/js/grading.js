// Grading page: autosave the evaluator's draft and show the outcome the plugin's rules compute.
// Without this script the page still works: the "Enregistrer le brouillon" button posts the form.
(function () {
  "use strict";
  var form = document.getElementById("grading-form");
  if (!form || !form.dataset.autosaveUrl) { return; }
  var status = document.getElementById("enregistrement");
  var summary = document.getElementById("resultat-bloc");
  var box = document.getElementById("resultat");
  var timer = null;
  var DELAY_MS = 700;

  function body() {
    var data = { verdicts: {}, remarks: {}, session_dates: [], jury_role: null,
                 trained_candidate: false, remark: "" };
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled) { return; }
      if (el.name.indexOf("verdict-") === 0) {
        if (el.checked) { data.verdicts[el.name.slice(8)] = el.value; }
      } else if (el.name.indexOf("remark-") === 0) {
        if (el.value.trim()) { data.remarks[el.name.slice(7)] = el.value; }
      } else if (el.name === "session_dates") {
        if (el.value) { data.session_dates.push(el.value); }
      } else if (el.name === "jury_role") {
        data.jury_role = el.value || null;
      } else if (el.name === "trained_candidate") {
        data.trained_candidate = el.checked;
      } else if (el.name === "remark") {
        data.remark = el.value;
      }
    });
    return data;
  }

  function show(outcome) {
    summary.textContent = outcome.summary;
    box.classList.toggle("ok", outcome.acquired);
    outcome.competencies.forEach(function (result) {
      var line = form.querySelector('[data-competency="' + CSS.escape(result.code) + '"]');
      if (!line) { return; }
      line.textContent = (result.acquired ? "Compétence acquise" : "Compétence non acquise") +
        " (" + result.met + "/" + result.total + " critères acquis)";
      line.classList.toggle("ok", result.acquired);
    });
  }

  function save() {
    var token = form.querySelector('input[name="csrf_token"]').value;
    status.textContent = "Enregistrement…";
    fetch(form.dataset.autosaveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRF-Token": token },
      body: JSON.stringify(body())
    }).then(function (response) {
      return response.json().then(function (json) { return { ok: response.ok, json: json }; });
    }).then(function (answer) {
      if (!answer.ok) {
        status.textContent = "Non enregistré : " + (answer.json.message || "erreur");
        return;
      }
      show(answer.json.outcome);
      var now = new Date();
      status.textContent = "Brouillon enregistré à " +
        String(now.getHours()).padStart(2, "0") + ":" + String(now.getMinutes()).padStart(2, "0");
    }).catch(function () {
      status.textContent = "Non enregistré : le service ne répond pas. Utilisez le bouton « Enregistrer le brouillon ».";
    });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(save, DELAY_MS);
  }

  form.addEventListener("change", later);
  form.addEventListener("input", function (event) {
    if (event.target.tagName === "TEXTAREA") { later(); }
  });
})();
