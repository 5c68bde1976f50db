// LTI platform storage (1EdTech "Client Side postMessages"): the state lives in the platform
// when the browser refuses our cookies in its iframe. Login: put state and nonce, then go to
// the platform's auth endpoint. Launch: read the state back and re-post the launch if equal.
(function () {
  "use strict";
  var box = document.getElementById("platform-storage");
  var mode = box.getAttribute("data-mode");
  var targetName = box.getAttribute("data-target");
  var origin = box.getAttribute("data-origin");
  var state = box.getAttribute("data-state");
  var TIMEOUT_MS = 3000;
  var pending = {};

  function targetFrame() {
    if (targetName === "_parent") { return window.parent; }
    try { return window.parent.frames[targetName] || null; } catch (e) { return null; }
  }

  window.addEventListener("message", function (event) {
    // Only the platform's origin answers; anything else is ignored.
    if (event.origin !== origin || !event.data) { return; }
    var waiting = pending[event.data.message_id];
    if (!waiting || event.data.subject !== waiting.subject + ".response") { return; }
    delete pending[event.data.message_id];
    clearTimeout(waiting.timer);
    if (event.data.error) { waiting.reject(event.data.error); } else { waiting.resolve(event.data); }
  });

  function send(subject, fields) {
    return new Promise(function (resolve, reject) {
      var frame = targetFrame();
      if (!frame || window.parent === window) { reject("no_target"); return; }
      var id = subject + "-" + Date.now() + "-" + Math.random().toString(36).slice(2);
      var message = { subject: subject, message_id: id };
      Object.keys(fields).forEach(function (key) { message[key] = fields[key]; });
      pending[id] = {
        subject: subject, resolve: resolve, reject: reject,
        timer: setTimeout(function () { delete pending[id]; reject("timeout"); }, TIMEOUT_MS)
      };
      frame.postMessage(message, origin);
    });
  }

  function fail() {
    document.getElementById("platform-storage-loading").hidden = true;
    document.getElementById("platform-storage-failed").hidden = false;
  }

  if (mode === "login") {
    var nonce = box.getAttribute("data-nonce");
    var next = box.getAttribute("data-next");
    var go = function () { window.location.replace(next); };
    // Without an answer the state cookie may still work: go on either way.
    Promise.all([
      send("lti.put_data", { key: "state_" + state, value: state }),
      send("lti.put_data", { key: "nonce_" + nonce, value: nonce })
    ]).then(go, go);
  } else {
    send("lti.get_data", { key: "state_" + state }).then(function (answer) {
      if (answer.value === state) {
        document.getElementById("platform-storage-form").submit();
      } else {
        fail();
      }
    }, fail);
  }
})();
