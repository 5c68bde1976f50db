// Tells the LMS that dynamic registration is over (LTI Dynamic Registration 1.0, section 3.6).
(function () {
  "use strict";
  (window.opener || window.parent).postMessage({ subject: "org.imsglobal.lti.close" }, "*");
})();
