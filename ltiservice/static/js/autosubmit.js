// Submits the form marked data-autosubmit (deep-linking return); its button stays for no-JS use.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosubmit='true']");
  if (form) { form.submit(); }
})();
