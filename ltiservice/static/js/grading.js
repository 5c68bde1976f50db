// Grading page: autosave the evaluator's draft, show the outcome the plugin's rules compute,
// keep the progress line current, « tout acquis » (with undo) and keyboard shortcuts.
// Without this script the page still works: every button posts the form.
(function () {
  "use strict";
  var form = document.getElementById("grading-form");
  if (!form || !form.dataset.autosaveUrl) { return; }
  var status = document.getElementById("enregistrement");
  var summary = document.getElementById("resultat-bloc");
  var box = document.getElementById("resultat");
  var timer = null;
  var DELAY_MS = 700;
  var criteria = Array.prototype.slice.call(form.querySelectorAll(".criterion"));

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

  function checked(criterion) {
    return criterion.querySelector("input[type=radio]:checked");
  }

  // The progress line and the « en cours » lines, from the page itself (no round trip).
  function progress() {
    var filled = 0, incomplete = 0, firstMissing = null;
    form.querySelectorAll(".competency").forEach(function (section) {
      var own = section.querySelectorAll(".criterion");
      var missing = Array.prototype.filter.call(own, function (c) { return !checked(c); });
      filled += own.length - missing.length;
      var item = document.querySelector('[data-incomplete="' + CSS.escape(section.dataset.code) + '"]');
      if (item) {
        item.hidden = missing.length === 0;
        if (missing.length) {
          var link = item.querySelector("a");
          link.setAttribute("href", "#" + missing[0].id);
          link.querySelector(".muted").textContent = " (" + missing.length + " à renseigner)";
        }
      }
      if (missing.length) {
        incomplete += 1;
        firstMissing = firstMissing || missing[0];
        var line = section.querySelector(".competency-result");
        line.textContent = "En cours (" + (own.length - missing.length) + "/" + own.length +
          " critères renseignés)";
        line.classList.remove("ok");
      }
    });
    document.getElementById("incompletes").hidden = incomplete === 0;
    var count = document.getElementById("progression-criteres");
    count.textContent = filled + "/" + criteria.length + " critères renseignés";
    count.setAttribute("href", "#" + (firstMissing || criteria[0]).id);
    document.getElementById("progression-competences").textContent = incomplete +
      (incomplete > 1 ? " compétences incomplètes" : " compétence incomplète");
    return firstMissing;
  }

  function show(outcome) {
    summary.textContent = outcome.summary;
    box.classList.toggle("ok", outcome.acquired);
    outcome.competencies.forEach(function (result) {
      var line = form.querySelector('[data-competency="' + CSS.escape(result.code) + '"]');
      if (!line || !result.complete) { return; }
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
    progress();
    window.clearTimeout(timer);
    timer = window.setTimeout(save, DELAY_MS);
  }

  // « Tout acquis » sets the competency here (the button posts the form without script);
  // « Annuler » puts back what each criterion held before.
  function allMet(section) {
    var before = [];
    section.querySelectorAll(".criterion").forEach(function (criterion) {
      var was = checked(criterion);
      before.push([criterion, was ? was.value : null]);
      criterion.querySelector('input[value="met"]').checked = true;
    });
    var undo = section.querySelector(".undo");
    undo.hidden = false;
    undo.onclick = function () {
      before.forEach(function (pair) {
        var radios = pair[0].querySelectorAll("input[type=radio]");
        radios.forEach(function (radio) { radio.checked = radio.value === pair[1]; });
      });
      undo.hidden = true;
      status.textContent = "« Tout acquis » annulé pour " + section.dataset.code + ".";
      later();
      section.querySelector(".all-met").focus();
    };
    status.textContent = "Tous les critères de " + section.dataset.code + " sont acquis.";
    later();
  }

  form.querySelectorAll(".all-met").forEach(function (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      allMet(button.closest(".competency"));
    });
  });

  function focusCriterion(criterion) {
    if (!criterion) { return; }
    var target = checked(criterion) || criterion.querySelector("input[type=radio]");
    target.focus();
  }

  // Shortcuts act only while a criterion's verdict has the focus (WCAG 2.1.4: never
  // while typing a remark, and no single-key action anywhere else on the page).
  var VERDICT_KEYS = { "1": "met", "2": "not_met", "3": "not_observed" };
  form.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    if (target.type !== "radio" || target.name.indexOf("verdict-") !== 0) { return; }
    var criterion = target.closest(".criterion");
    var index = criteria.indexOf(criterion);
    var key = event.key.toLowerCase();
    if (VERDICT_KEYS[key]) {
      criterion.querySelector('input[value="' + VERDICT_KEYS[key] + '"]').checked = true;
      later();
      focusCriterion(criteria[index + 1]);
    } else if (key === "n") {
      focusCriterion(criteria[index + 1]);
    } else if (key === "p") {
      focusCriterion(criteria[index - 1]);
    } else if (key === "m") {
      var missing = progress();
      if (missing) { focusCriterion(missing); } else { form.querySelector('button[value="sign"]').focus(); }
    } else if (key === "a") {
      var section = criterion.closest(".competency");
      allMet(section);
      var next = section.nextElementSibling;
      if (next && next.classList.contains("competency")) {
        focusCriterion(next.querySelector(".criterion"));
      } else {
        form.querySelector('button[value="sign"]').focus();
      }
    } else {
      return;
    }
    event.preventDefault();
  });

  document.getElementById("raccourcis").hidden = !form.querySelector("input[type=radio]:enabled");
  form.addEventListener("change", later);
  form.addEventListener("input", function (event) {
    if (event.target.tagName === "TEXTAREA") { later(); }
  });
})();
