// Tests whether this frame may keep cookies; continues the login here, or offers a new window.
(function () {
  "use strict";
  var box = document.getElementById("cookie-check");
  var params = JSON.parse(box.getAttribute("data-params"));

  function continueUrl() {
    var url = new URL(window.location.href.split("?")[0]);
    Object.keys(params).forEach(function (key) { url.searchParams.set(key, params[key]); });
    return url.toString();
  }

  function cookiesWork() {
    document.cookie = "ltiservice_cookie_test=1; path=/; SameSite=None; Secure";
    var ok = document.cookie.indexOf("ltiservice_cookie_test=1") !== -1;
    document.cookie = "ltiservice_cookie_test=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; SameSite=None; Secure";
    return ok;
  }

  if (cookiesWork()) {
    window.location.replace(continueUrl());
    return;
  }
  document.getElementById("cookie-check-loading").hidden = true;
  document.getElementById("cookie-check-blocked").hidden = false;
  var link = document.getElementById("cookie-check-new-window");
  link.href = continueUrl();
  link.focus();
})();
