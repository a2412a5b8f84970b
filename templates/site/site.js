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
  var NARROW_BELOW = 760; // px: under this a chart drawn 1010 px wide would shrink its text
  function draw(holder) {
    var id = holder.getAttribute("data-spec");
    var block = document.getElementById(id);
    if (!block) return;
    // an edition's chart also comes drawn for a phone's width (its labels wrap for it)
    var narrow = document.getElementById(id + "-narrow");
    if (narrow && holder.clientWidth < NARROW_BELOW) block = narrow;
    var spec = JSON.parse(block.textContent);
    window.vegaEmbed(holder, spec, options).then(function () {
      keepTooltipOnScreen();
      holder.setAttribute("data-drawn", "true");
    }).catch(function (error) {
      holder.textContent = "This chart could not be drawn (" + error.message + "); the table has its numbers.";
      holder.classList.add("chart-error");
    });
  }
  // vega-tooltip flips a tooltip to the pointer's left near the right edge, and on a phone
  // that can be past the left edge: keep it inside the window.
  function keepTooltipOnScreen() {
    var tip = document.getElementById("vg-tooltip-element");
    if (!tip || tip.getAttribute("data-kept") === "true") return;
    tip.setAttribute("data-kept", "true");
    new MutationObserver(function () {
      var left = parseFloat(tip.style.left);
      if (isNaN(left)) return;
      var kept = Math.max(4, Math.min(left, window.innerWidth - tip.offsetWidth - 4));
      if (Math.abs(kept - left) > 0.5) tip.style.left = kept + "px";
    }).observe(tip, { attributes: true, attributeFilter: ["style"] });
  }
  // A table wider than the screen scrolls sideways: make it reachable by keyboard and named.
  function scrollable() {
    var blocks = document.querySelectorAll(".table-block");
    for (var i = 0; i < blocks.length; i++) {
      var block = blocks[i];
      if (block.scrollWidth <= block.clientWidth + 1 || block.hasAttribute("tabindex")) continue;
      var title = block.querySelector(".block-title");
      block.setAttribute("tabindex", "0");
      block.setAttribute("role", "region");
      block.setAttribute("aria-label", (title ? title.textContent : "Table") + " (scrolls sideways)");
    }
  }
  function start() {
    var holders = document.querySelectorAll("[data-spec]");
    for (var i = 0; i < holders.length; i++) draw(holders[i]);
    scrollable();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
