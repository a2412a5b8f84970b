// reportgen serve: reloads the page when a rebuild finished, and shows a failed rebuild's
// error (file:line and fix, as the CLI prints it) above the last good render.
(function () {
  "use strict";
  var seen = null;
  function show(state) {
    var box = document.getElementById("live-status");
    if (!box) return;
    if (state.error) {
      var head = document.createElement("strong");
      head.textContent = "The last edit did not build — the page below is the previous good render.";
      var message = document.createElement("code");
      message.className = "error-message";
      message.textContent = state.error;
      box.replaceChildren(head, document.createElement("br"), message);
      box.className = "live-status error";
      box.setAttribute("role", "alert");
      box.hidden = false;
    } else if (state.building) {
      box.textContent = "Rebuilding…";
      box.className = "live-status building";
      box.hidden = false;
    } else {
      box.hidden = true;
    }
  }
  function poll() {
    fetch("/__reportgen__/status", { cache: "no-store" }).then(function (r) { return r.json(); }).then(function (state) {
      if (seen !== null && state.version !== seen) { window.location.reload(); return; }
      seen = state.version;
      show(state);
    }).catch(function () { /* the server is restarting: try again */ }).then(function () {
      window.setTimeout(poll, 700);
    });
  }
  poll();
})();
