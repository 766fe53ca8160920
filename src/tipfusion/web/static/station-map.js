// The station map: the unit's own station polygons (GeoJSON from this server) drawn with the vendored Leaflet,
// shaded by referrals, each station's figures in its tooltip. No tile layer, no network beyond this server.
// Without JavaScript the page's table carries the same figures.
(function () {
  "use strict";
  var holder = document.getElementById("station-map");
  if (!holder || !window.L) { return; }
  var shades = ["#f1f5fb", "#c6d7ee", "#8fb0dc", "#5a87c6", "#2f5f9e", "#173a6b"];
  function shade(value, top) {
    if (!value) { return shades[0]; }
    var step = Math.ceil((value / Math.max(top, 1)) * (shades.length - 1));
    return shades[Math.min(shades.length - 1, Math.max(1, step))];
  }
  function text(value) {
    var span = document.createElement("span");
    span.textContent = value == null ? "" : String(value);
    return span.innerHTML;
  }
  fetch(holder.getAttribute("data-geojson"), { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("the station layer could not be loaded (" + response.status + ")"); }
      return response.json();
    })
    .then(function (data) {
      var top = 0;
      data.features.forEach(function (f) { top = Math.max(top, f.properties.referrals || 0); });
      var map = L.map(holder, { attributionControl: false, zoomSnap: 0.25 });
      var layer = L.geoJSON(data, {
        style: function (f) {
          return { color: "#334", weight: 1, fillOpacity: 0.75, fillColor: shade(f.properties.referrals, top) };
        },
        onEachFeature: function (f, item) {
          var p = f.properties;
          item.bindTooltip(
            "<strong>" + text(p.station) + "</strong><br>" + text(p.district) +
            "<br>Referrals: " + text(p.referrals) + "<br>FIRs: " + text(p.firs) + "<br>Arrests: " + text(p.arrests),
            { sticky: true }
          );
        }
      }).addTo(map);
      if (data.features.length) { map.fitBounds(layer.getBounds(), { padding: [10, 10] }); } else { map.setView([0, 0], 2); }
      holder.classList.add("drawn");
      holder.setAttribute("data-features", String(data.features.length));
    })
    .catch(function (error) {
      holder.classList.add("failed");
      holder.textContent = error.message + " — the table below has every figure.";
    });
})();
