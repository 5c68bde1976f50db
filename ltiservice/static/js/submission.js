// Autosave of the submission text: a debounced JSON POST after typing, its result announced
// politely. Without this script the "Enregistrer le brouillon" button does the same job.
(function () {
  "use strict";
  var form = document.getElementById("submission-form");
  if (!form) { return; }
  var text = document.getElementById("text");
  var status = document.getElementById("autosave-status");
  var url = form.getAttribute("data-autosave-url");
  var csrf = form.getAttribute("data-csrf");
  var DELAY_MS = 2000;
  var timer = null;
  var saved = text.value;
  var inFlight = false;

  function say(message) { status.textContent = message; }

  function save() {
    timer = null;
    if (inFlight || text.value === saved) { return; }
    var value = text.value;
    inFlight = true;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRF-Token": csrf },
      body: JSON.stringify({ text: value })
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (answer) {
      if (answer.ok) {
        saved = value;
        say("Brouillon enregistré à " + answer.body.label + ".");
      } else {
        say("Brouillon non enregistré : " + (answer.body.message || "erreur du service") + ".");
      }
    }).catch(function () {
      say("Brouillon non enregistré (connexion perdue). Nouvel essai dans quelques secondes.");
    }).then(function () {
      inFlight = false;
      if (text.value !== saved && timer === null) { timer = window.setTimeout(save, DELAY_MS); }
    });
  }

  text.addEventListener("input", function () {
    if (timer !== null) { window.clearTimeout(timer); }
    timer = window.setTimeout(save, DELAY_MS);
  });
})();
