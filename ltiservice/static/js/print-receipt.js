// The receipt's « Imprimer ou enregistrer en PDF » button: shown only when scripts run
// (without them, the browser's own Print menu does the same, with the print stylesheet).
(function () {
  "use strict";
  var button = document.getElementById("imprimer");
  if (!button || typeof window.print !== "function") return;
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
})();
