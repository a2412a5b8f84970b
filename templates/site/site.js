// reportgen site: draws each chart from its Vega-Lite spec (an inline JSON data block).
// Runs under the page's Content-Security-Policy: no eval (Vega's expression interpreter,
// `ast: true`), no injected <style> (`defaultStyle: false`; site.css styles the tooltip).
(function () {
  "use strict";
  var options = {
    renderer: "svg",
    actions: false,
    ast: true,
    defaultStyle: false,
    tooltip: { disableDefaultStyle: true, theme: "reportgen" },
  };
  function draw(holder) {
    var block = document.getElementById(holder.getAttribute("data-spec"));
    if (!block) return;
    var spec = JSON.parse(block.textContent);
    window.vegaEmbed(holder, spec, options).then(function () {
      holder.setAttribute("data-drawn", "true");
    }).catch(function (error) {
      holder.textContent = "This chart could not be drawn (" + error.message + "); the table has its numbers.";
      holder.classList.add("chart-error");
    });
  }
  function start() {
    var holders = document.querySelectorAll("[data-spec]");
    for (var i = 0; i < holders.length; i++) draw(holders[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
