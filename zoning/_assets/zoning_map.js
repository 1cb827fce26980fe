/* zoning map: draws the classified plots and their context from one JSON payload.
 *
 * Every text value from the data reaches the page through textContent, never
 * innerHTML, so markup in an enterprise name shows as the characters it is made of.
 * Called once per page: zoningMap(map, payload).
 */
/* Shared DOM helpers: every value goes in through textContent. */
function zoningEl(tag, className, text) {
  var node = document.createElement(tag);
  if (className) { node.className = className; }
  if (text !== undefined && text !== null) { node.textContent = String(text); }
  return node;
}

/* A popup: a two-column table of the non-empty fields, labels from T.fields. */
function zoningTable(fields, labels, value) {
  var box = zoningEl("div", "zoning-popup");
  var table = zoningEl("table");
  fields.forEach(function (f) {
    var v = value(f);
    if (v === undefined || v === null || v === "") { return; }
    var tr = zoningEl("tr");
    tr.appendChild(zoningEl("th", null, labels[f] || f));
    tr.appendChild(zoningEl("td", null, v));
    table.appendChild(tr);
  });
  box.appendChild(table);
  return box;
}

/* A legend control: a title and one coloured swatch per row. */
function zoningLegend(map, position, title, rows, round) {
  var legend = L.control({position: position});
  legend.onAdd = function () {
    var div = zoningEl("div", "zoning-legend");
    div.appendChild(zoningEl("b", null, title));
    rows.forEach(function (r) {
      var row = zoningEl("div", "zoning-legend-row");
      var sw = zoningEl("span", round ? "zoning-swatch zoning-round" : "zoning-swatch");
      sw.style.background = r.color;
      row.appendChild(sw);
      row.appendChild(zoningEl("span", null, r.text));
      div.appendChild(row);
    });
    return div;
  };
  legend.addTo(map);
  return legend;
}

function zoningMap(map, payload) {
  "use strict";
  var T = payload.text;
  if (map.options.maxZoom === undefined) { map.setMaxZoom(19); }  // clustering needs one
  var renderer = L.canvas({padding: 0.5, tolerance: 4});
  var overlays = {};
  var plotIndex = [];   // [{layer, props}] for search

  var el = zoningEl;

  function fmtMu(v) { return (Math.round(v * 100) / 100).toFixed(2); }

  function plotProps(props) {
    // Class and rule names come from one table, not from every feature.
    var out = {};
    Object.keys(props).forEach(function (k) { out[k] = props[k]; });
    out.class_name = T.classes[props["class"]] || props["class"];
    out.rule_text = props.rule ? props.rule + " " + (T.rules[props.rule] || "") : "";
    return out;
  }

  function popupNode(fields, props) {
    if (props["class"] !== undefined) { props = plotProps(props); }
    return zoningTable(fields, T.fields, function (f) {
      return f === "area_mu" && props[f] !== undefined ? fmtMu(props[f]) : props[f];
    });
  }

  function addGeoJson(key, data, style, opts) {
    if (!data || !data.features || !data.features.length) { return null; }
    opts = opts || {};
    if (opts.show === false) {
      // Hidden at start: build the features the first time the layer is switched on.
      var lazy = L.layerGroup();
      lazy.once("add", function () {
        lazy.addLayer(addGeoJson(key, data, style,
                                 {popupFields: opts.popupFields, index: opts.index, detached: true}));
      });
      overlays[key] = lazy;
      return lazy;
    }
    var layer = L.geoJSON(data, {
      renderer: renderer,
      style: function () { return style; },
      interactive: !!opts.popupFields,
      onEachFeature: function (feature, lyr) {
        if (opts.popupFields) {
          lyr.bindPopup(function () { return popupNode(opts.popupFields, feature.properties); },
                        {maxWidth: 360});
        }
        if (opts.index) { plotIndex.push({layer: lyr, props: feature.properties}); }
      }
    });
    if (opts.detached) { return layer; }
    layer.addTo(map);
    overlays[key] = layer;
    return layer;
  }

  // Basemap (tiles only when asked for; a plain background otherwise).
  (payload.basemap || []).forEach(function (tile) {
    L.tileLayer(tile.url, {attribution: tile.attribution, subdomains: tile.subdomains || "abc",
                           maxZoom: 18, minZoom: 1}).addTo(map);
  });

  var ctx = payload.context;
  payload.contextOrder.forEach(function (key) {
    var spec = ctx[key];
    addGeoJson(spec.label, spec.data, spec.style,
               {popupFields: spec.popupFields, show: spec.show});
  });
  if (payload.highlight) {
    // The town of a per-town page: a thick outline, named in its middle.
    var town = L.geoJSON(payload.highlight.data, {
      renderer: renderer, interactive: false,
      style: function () { return payload.highlight.style; }
    }).addTo(map);
    town.bindTooltip(payload.highlight.name, {permanent: true, direction: "center",
                                              className: "zoning-town-label"});
    window.zoningHighlight = town;
  }
  var classLayers = payload.classes.map(function (c) {
    return addGeoJson(c.label, c.data, {color: c.color, weight: 1, fillColor: c.color,
                                        fillOpacity: 0.65},
                      {popupFields: payload.plotFields, index: true});
  });
  if (payload.links) {
    addGeoJson(payload.links.label, payload.links.data,
               {color: "#0072B2", weight: 1.2, dashArray: "4 3", opacity: 0.9},
               {show: false});
  }

  // Legend: count and mu per class.
  function legendRows(groups) {
    return groups.map(function (c) {
      return {color: c.color, text: c.name + " " + c.count + " " + T.plots + " / " +
                                    fmtMu(c.mu) + " " + T.mu};
    });
  }
  var legend = zoningLegend(map, "bottomleft", T.legendTitle, legendRows(payload.classes));

  // Ledger progress: colour the same plots by status group instead of class.
  if (payload.status) {
    var byKey = {};
    payload.status.groups.forEach(function (g) { byKey[g.key] = g.color; });
    var colourBy = function (what) {
      classLayers.forEach(function (lyr, i) {
        if (!lyr) { return; }
        var c = payload.classes[i].color;
        lyr.setStyle(function (f) {
          var col = what === "status" ? (byKey[f.properties.sg] || "#999999") : c;
          return {color: col, fillColor: col, weight: 1,
                  fillOpacity: what === "status" ? 0.8 : 0.65};
        });
      });
      map.removeControl(legend);
      legend = what === "status"
        ? zoningLegend(map, "bottomleft", payload.status.title,
                       legendRows(payload.status.groups))
        : zoningLegend(map, "bottomleft", T.legendTitle, legendRows(payload.classes));
    };
    var switcher = L.control({position: "topright"});
    switcher.onAdd = function () {
      var box = el("div", "zoning-colour-by leaflet-bar");
      ["class", "status"].forEach(function (what) {
        var label = el("label");
        var input = el("input");
        input.type = "radio";
        input.name = "zoning-colour-by";
        input.value = what;
        input.checked = what === "class";
        input.addEventListener("change", function () { if (input.checked) { colourBy(what); } });
        label.appendChild(input);
        label.appendChild(el("span", null, " " + T.colourBy[what]));
        box.appendChild(label);
      });
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    switcher.addTo(map);
  }

  // Collapsed to a button (opens on hover or tap): the list covered a projector's screen.
  var control = L.control.layers(null, overlays, {collapsed: true, position: "topright"});
  control.addTo(map);
  zoningWorkshops(map, payload, control);
  zoningBlocks(map, payload, control);
  L.control.scale({imperial: false, metric: true}).addTo(map);

  // Fullscreen: the browser's Fullscreen API on the map's page.
  var fs = L.control({position: "topleft"});
  fs.onAdd = function () {
    var a = el("a", "zoning-button");
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 16 16");
    svg.setAttribute("width", "16");
    svg.setAttribute("height", "16");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", "M1 6V1h5M10 1h5v5M15 10v5h-5M6 15H1v-5");
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "#333");
    path.setAttribute("stroke-width", "2");
    svg.appendChild(path);
    a.appendChild(svg);
    a.href = "#";
    a.title = T.fullscreen;
    a.setAttribute("role", "button");
    L.DomEvent.on(a, "click", function (e) {
      L.DomEvent.preventDefault(e);
      var doc = document;
      if (doc.fullscreenElement) { doc.exitFullscreen(); }
      else if (doc.documentElement.requestFullscreen) { doc.documentElement.requestFullscreen(); }
    });
    var bar = el("div", "leaflet-bar zoning-fullscreen");
    bar.appendChild(a);
    return bar;
  };
  fs.addTo(map);
  document.addEventListener("fullscreenchange", function () { map.invalidateSize(); });
  // Printing resizes the page: keep the same centre on the sheet.
  if (window.matchMedia) {
    var onPrint = function () { map.invalidateSize({animate: false}); };
    var mq = window.matchMedia("print");
    if (mq.addEventListener) { mq.addEventListener("change", onPrint); }
    window.addEventListener("beforeprint", onPrint);
  }

  // Search by plot id or enterprise name.
  var search = L.control({position: "topleft"});
  search.onAdd = function () {
    var box = el("div", "zoning-search leaflet-bar");
    var input = el("input");
    input.type = "search";
    input.placeholder = T.searchPlaceholder;
    input.setAttribute("aria-label", T.searchPlaceholder);
    var list = el("ul");
    box.appendChild(input);
    box.appendChild(list);
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    function show(hit) {
      var b = hit.layer.getBounds();
      map.fitBounds(b, {maxZoom: 17});
      if (!map.hasLayer(hit.layer)) { hit.layer.addTo(map); }
      hit.layer.openPopup(b.getCenter());
    }
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      list.textContent = "";
      if (q.length < 1) { return; }
      var hits = [];
      for (var i = 0; i < plotIndex.length && hits.length < 20; i++) {
        var p = plotIndex[i].props;
        var id = String(p.parcel_id || "").toLowerCase();
        var ent = String(p.enterprise || "").toLowerCase();
        if (id.indexOf(q) === 0 || (ent && ent.indexOf(q) >= 0)) { hits.push(plotIndex[i]); }
      }
      hits.forEach(function (hit) {
        var li = el("li", null, hit.props.parcel_id + (hit.props.enterprise ?
                                                     " · " + hit.props.enterprise : ""));
        li.addEventListener("click", function () { show(hit); });
        list.appendChild(li);
      });
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && list.firstChild) { list.firstChild.click(); }
    });
    return box;
  };
  search.addTo(map);

  if (payload.back) {
    var back = L.control({position: "topleft"});
    back.onAdd = function () {
      var a = el("a", "zoning-back leaflet-bar", payload.back.text);
      a.setAttribute("href", payload.back.href);
      return a;
    };
    back.addTo(map);
  }

  // The first view: the plots clear of the legends and the title, not under them.
  if (payload.bounds) {
    var size = map.getSize();
    var box = function (selector) {
      var node = map.getContainer().querySelector(selector);
      return node ? {w: node.offsetWidth, h: node.offsetHeight} : {w: 0, h: 0};
    };
    var left = box(".leaflet-bottom.leaflet-left .zoning-legend");
    var right = box(".leaflet-bottom.leaflet-right .zoning-legend");
    var title = document.querySelector(".zoning-title");
    var pad = function (px, total) { return Math.min(px + 16, 0.4 * total); };
    map.fitBounds(payload.bounds, {
      paddingTopLeft: [pad(left.w, size.x), pad(title ? title.offsetHeight + 10 : 10, size.y)],
      paddingBottomRight: [pad(right.w, size.x), 24]
    });
  }
  window.zoningLayers = overlays;   // for tests and the curious
  window.zoningPlots = plotIndex;
  return overlays;
}

/* Household workshops: clustered markers coloured by class, micro parks, placement lines.
 * Built the first time the layer is switched on (12,000 points cost nothing until then). */
function zoningWorkshops(map, payload, control) {
  "use strict";
  var W = payload.workshops;
  if (!W) { return; }
  var T = payload.text;
  var renderer = L.canvas({padding: 0.5});

  function popup(i) {
    return zoningTable(W.fields, T.fields, function (f) {
      if (f === "class_name") { return W.classes[W.cls[i]].name; }
      var col = W.columns[f] || [];
      return col.codes ? col.values[col.codes[i]] : col[i];
    });
  }

  var icons = W.classes.map(function (c) {
    return L.divIcon({className: "zoning-dot", iconSize: [12, 12],
                      html: '<span style="background:' + c.color + '"></span>'});
  });
  var points = L.layerGroup();
  points.once("add", function () {
    var cluster = L.markerClusterGroup({chunkedLoading: true, maxClusterRadius: 50});
    var markers = [];
    for (var i = 0; i < W.lon.length; i++) {
      var m = L.marker([W.lat[i], W.lon[i]], {icon: icons[W.cls[i]]});
      (function (k) { m.bindPopup(function () { return popup(k); }, {maxWidth: 360}); })(i);
      markers.push(m);
    }
    cluster.addLayers(markers);
    points.addLayer(cluster);
  });
  control.addOverlay(points, W.label + " (" + W.lon.length + ")");
  if (W.microParks) {
    var parks = L.geoJSON(W.microParks.data, {
      renderer: renderer,
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, {radius: 7}); },
      style: function () { return {color: "#000", weight: 1.5, fillColor: "#CC79A7",
                                   fillOpacity: 0.5}; },
      onEachFeature: function (f, lyr) {
        lyr.bindPopup(function () {
          return zoningTable(W.microParks.fields, T.fields,
                             function (k) { return f.properties[k]; });
        });
      }
    });
    control.addOverlay(parks, W.microParks.label);
  }
  if (W.links) {
    var lines = L.layerGroup();
    lines.once("add", function () {
      lines.addLayer(L.geoJSON(W.links.data, {renderer: renderer, interactive: false,
        style: function () { return {color: "#CC79A7", weight: 1, opacity: 0.7}; }}));
    });
    control.addOverlay(lines, W.links.label);
  }
  zoningLegend(map, "bottomright", W.label, W.classes.map(function (c) {
    return {color: c.color, text: c.name + " " + c.count};
  }), true);
  window.zoningWorkshopLayers = {points: points};
  if (W.risk) { zoningRisk(map, W, T, control, popup, renderer); }
}

/* Three-in-one workshops coloured by risk level (SPEC §12): an overlay beside the class
 * colouring; the popup adds the level and the failed checks in words. */
function zoningRisk(map, W, T, control, popup, renderer) {
  "use strict";
  var R = W.risk;
  var layer = L.layerGroup();
  layer.once("add", function () {
    for (var k = 0; k < R.idx.length; k++) {
      var i = R.idx[k], level = R.levels[R.lvl[k]];
      var m = L.circleMarker([W.lat[i], W.lon[i]], {renderer: renderer, radius: 5,
        color: "#333", weight: 0.5, fillColor: level.color, fillOpacity: 0.9});
      (function (k, i) {
        m.bindPopup(function () {
          var extra = zoningTable(R.fields, R.names, function (f) {
            return f === "risk_name" ? R.levels[R.lvl[k]].name : R.failed[k];
          });
          var box = document.createElement("div");
          box.appendChild(extra);
          box.appendChild(popup(i));
          return box;
        }, {maxWidth: 360});
      })(k, i);
      layer.addLayer(m);
    }
  });
  control.addOverlay(layer, R.label + " (" + R.idx.length + ")");
  zoningLegend(map, "bottomright", R.label, R.levels.map(function (c) {
    return {color: c.color, text: c.name + " " + c.count};
  }), true);
  window.zoningWorkshopLayers.risk = layer;
}

/* Old industrial blocks by renovation mode and freed land by suggested reuse (SPEC §11):
 * one switchable overlay each, off at start, its legend shown while it is on; popups
 * give the reason in the page's language. */
function zoningBlocks(map, payload, control) {
  "use strict";
  window.zoningBlockLayers = {};
  ["blocks", "freed_sites"].forEach(function (key) {
    var spec = payload[key];
    if (!spec) { return; }
    var renderer = L.canvas({padding: 0.5, tolerance: 4});
    var layer = L.layerGroup();
    var legend = null;
    layer.once("add", function () {
      spec.groups.forEach(function (g) {
        layer.addLayer(L.geoJSON(g.data, {
          renderer: renderer,
          style: function () {
            return key === "blocks"
              ? {color: g.color, weight: 2.5, fillColor: g.color, fillOpacity: 0.2}
              : {color: g.color, weight: 2, dashArray: "5 3", fillColor: g.color,
                 fillOpacity: 0.45};
          },
          onEachFeature: function (f, lyr) {
            lyr.bindPopup(function () {
              return zoningTable(spec.fields, spec.names, function (k) {
                return f.properties[k];
              });
            }, {maxWidth: 380});
          }
        }));
      });
    });
    layer.on("add", function () {
      legend = zoningLegend(map, "bottomright", spec.title, spec.groups.map(function (g) {
        return {color: g.color, text: g.name + " " + g.count + " " + spec.unit + " / " +
                                      (Math.round(g.mu * 100) / 100).toFixed(2) + " " + spec.mu};
      }));
    });
    layer.on("remove", function () {
      if (legend) { map.removeControl(legend); legend = null; }
    });
    control.addOverlay(layer, spec.label);
    window.zoningBlockLayers[key] = layer;
  });
}
