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

// Files over the limit are refused here, before anything is sent, with the server's own words
// (the page carries them): the typed text stays in the page and the learner is told right at
// the file field, which takes the focus. A refusal the server rendered gets the focus too.
(function () {
  "use strict";
  var form = document.getElementById("submission-form");
  var input = document.getElementById("files");
  var box = document.getElementById("erreurs-fichiers");
  if (!form || !input || !box) { return; }

  function show(messages) {
    box.textContent = "";
    messages.forEach(function (message) {
      var line = document.createElement("p");
      line.className = "error-text";
      line.textContent = message;
      box.appendChild(line);
    });
    var kept = document.createElement("p");
    kept.textContent = "Votre texte est conservé : rien n'a été perdu.";
    box.appendChild(kept);
    box.hidden = false;
    box.focus();
  }

  function refusals() {
    var fileLimit = Number(form.getAttribute("data-file-limit-bytes"));
    var requestLimit = Number(form.getAttribute("data-request-limit-bytes"));
    var messages = [];
    var total = 0;
    Array.prototype.forEach.call(input.files || [], function (file) {
      total += file.size;
      if (file.size > fileLimit) {
        messages.push(form.getAttribute("data-too-big").replace("{name}", file.name));
      }
    });
    if (!messages.length && total > requestLimit) {
      messages.push(form.getAttribute("data-too-much"));
    }
    return messages;
  }

  input.addEventListener("change", function () {
    var messages = refusals();
    if (messages.length) { show(messages); } else { box.hidden = true; box.textContent = ""; }
  });
  form.addEventListener("submit", function (event) {
    var messages = refusals();
    if (messages.length) {
      event.preventDefault();
      show(messages);
    }
  });
  if (!box.hidden) { box.focus(); }
})();
