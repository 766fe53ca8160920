/* The network graph: reads the page's JSON endpoint and draws it with the vendored cytoscape.js.
   No inline script (CSP script-src 'self'); the page lists the same nodes and edges in HTML without JavaScript. */
(function () {
  "use strict";
  var box = document.getElementById("network-graph");
  if (!box || typeof window.cytoscape !== "function") { return; }
  var explain = document.getElementById("graph-explain");
  var url = box.getAttribute("data-graph-url");
  fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("the graph could not be loaded (" + response.status + ")"); }
      return response.json();
    })
    .then(function (graph) {
      var cy = window.cytoscape({
        container: box,
        elements: graph.elements,
        wheelSensitivity: 0.3,
        style: [
          { selector: "node", style: { "label": "data(label)", "font-size": 9, "text-valign": "bottom", "text-wrap": "ellipsis", "text-max-width": 120 } },
          { selector: "node[kind = 'suspect']", style: { "background-color": "#0b5cad", "shape": "ellipse", "width": 26, "height": 26 } },
          { selector: "node[kind = 'value']", style: { "background-color": "#b3261e", "shape": "diamond", "width": 18, "height": 18 } },
          { selector: "node[kind = 'report']", style: { "background-color": "#8c959f", "shape": "rectangle", "width": 10, "height": 10, "font-size": 7 } },
          { selector: "edge", style: { "width": 1, "line-color": "#c3c9d0", "curve-style": "haystack" } },
          { selector: "edge[kind = 'link']", style: { "width": 3, "line-color": "#0b5cad", "curve-style": "bezier" } },
          { selector: "edge[kind = 'holds']", style: { "line-color": "#e0a39e" } },
          { selector: ":selected", style: { "overlay-opacity": 0.2, "overlay-color": "#f0b400" } }
        ],
        layout: { name: "cose", animate: false, randomize: false, nodeRepulsion: 6000 }
      });
      cy.on("tap", "edge", function (event) { explain.textContent = event.target.data("explains"); });
      cy.on("tap", "node", function (event) { explain.textContent = event.target.data("detail"); });
      box.setAttribute("data-ready", "true");
    })
    .catch(function (error) { if (explain) { explain.textContent = String(error.message || error); } });
})();
