/*
 * droogte: draws the published district maps and their text alternative.
 *
 * Reads one <script type="application/json"> block per page (written by
 * dashboards/citizen_map.py) and never contacts the network. All text from data is put into
 * the page with textContent, never innerHTML, so a district name is always shown as text.
 */
(function () {
  "use strict";

  var GROUNDWATER_OUTLINE = "#0072b2";
  var registry = {};

  function currentLang() {
    return document.documentElement.lang === "en" ? "en" : "nl";
  }

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  /* Reverses geometry.encode_compact: flat delta-encoded integer rings to [lon, lat] pairs. */
  function decodeRing(flat, scale) {
    var ring = [], x = 0, y = 0;
    for (var i = 0; i < flat.length; i += 2) {
      x += flat[i];
      y += flat[i + 1];
      ring.push([x / scale, y / scale]);
    }
    if (ring.length) ring.push(ring[0]);
    return ring;
  }

  /* A district's or area's polygons: [[ring, hole, ...], ...] of [lon, lat] pairs. Shared with
     the citizen page (assets/citizen.js), which decodes the same compact blocks. */
  function decodeShape(polygons, scale) {
    return polygons.map(function (rings) {
      return rings.map(function (flat) { return decodeRing(flat, scale); });
    });
  }

  function decodeGeometry(polygons, scale) {
    return {type: "MultiPolygon", coordinates: decodeShape(polygons, scale)};
  }

  /* The data block, parsed once; districts become plain objects keyed by column name. */
  function load(dataElement) {
    var id = dataElement.id;
    if (registry[id]) return registry[id];
    var data = JSON.parse(dataElement.textContent);
    var districts = data.rows.map(function (row, index) {
      var district = {index: index};
      data.columns.forEach(function (column, j) {
        district[column] = column === "groundwater" ? row[j] === 1 : data.strings[row[j]];
        if (column === "groundwater") district.groundwater_unknown = row[j] === 2;
      });
      return district;
    });
    registry[id] = {data: data, districts: districts, layers: [], map: null};
    return registry[id];
  }

  function ui(data, key) {
    return data.ui[currentLang()][key];
  }

  function restrictionText(data, district) {
    var style = data.styles[district.restriction];
    return (style.badge || style.level) + " \u2013 " + style["label_" + currentLang()];
  }

  function numericClass(spec, value) {
    if (value === null || value === undefined) return null;
    for (var i = 0; i < spec.classes.length; i++) {
      if (value < spec.classes[i].below) return spec.classes[i];
    }
    return spec.classes[spec.classes.length - 1];
  }

  function shapeStyle(data, district, value) {
    var outline = district.groundwater
      ? {color: GROUNDWATER_OUTLINE, weight: 3, dashArray: "6 4"}
      : {color: "#333333", weight: 1, dashArray: null};
    var fill;
    if (value === "restriction") {
      var style = data.styles[district.restriction];
      fill = style.pattern ? "url(#" + style.pattern + ")" : style.colour;
    } else {
      var cls = numericClass(data.values[value], data.values[value].numbers[district.index]);
      fill = cls ? cls.colour : "#ffffff";
      outline = {color: "#333333", weight: 1, dashArray: null};
    }
    return {fillColor: fill, fillOpacity: 0.85, color: outline.color, weight: outline.weight,
            dashArray: outline.dashArray, opacity: 1};
  }

  function addField(list, label, text) {
    if (!text) return;
    list.appendChild(element("dt", label));
    list.appendChild(element("dd", text));
  }

  /* The facts about one district, in the page's current language. */
  function districtFacts(data, district) {
    var lang = currentLang();
    return [
      [ui(data, "water_board"), district.water_board],
      [ui(data, "restriction"), restrictionText(data, district)],
      [ui(data, "groundwater"), district.groundwater ? ui(data, "groundwater_yes") : (district.groundwater_unknown ? ui(data, "groundwater_unknown") : ui(data, "groundwater_no"))],
      [ui(data, "since"), district["since_" + lang]],
      [ui(data, "meaning"), district["meaning_" + lang]],
      [ui(data, "exemptions"), district["exemptions_" + lang]],
      [ui(data, "reason"), district["reason_" + lang]]
    ];
  }

  function popupContent(data, district, value) {
    var box = element("div", null, "district-popup");
    box.lang = currentLang();
    box.appendChild(element("h3", district.name));
    var list = element("dl");
    if (value !== "restriction") {
      var spec = data.values[value];
      var number = spec.numbers[district.index];
      var cls = numericClass(spec, number);
      addField(list, spec["label_" + currentLang()],
               number === null ? ui(data, "no_value") : number + " " + spec.unit);
      if (cls) addField(list, ui(data, "class"), cls["label_" + currentLang()]);
    }
    districtFacts(data, district).forEach(function (fact) { addField(list, fact[0], fact[1]); });
    box.appendChild(list);
    return box;
  }

  /* One Leaflet GeoJSON layer for all districts, coloured by `options.value`. */
  function districtLayer(dataElement, options) {
    var state = load(dataElement);
    var data = state.data;
    var value = options.value || "restriction";
    var features = state.districts.map(function (district) {
      return {type: "Feature", properties: {index: district.index},
              geometry: decodeGeometry(data.shapes[district.index], data.scale)};
    });
    var layer = L.geoJSON({type: "FeatureCollection", features: features}, {
      style: function (feature) { return shapeStyle(data, state.districts[feature.properties.index], value); },
      onEachFeature: function (feature, shape) {
        var district = state.districts[feature.properties.index];
        shape.bindPopup(function () { return popupContent(data, district, value); }, {maxWidth: 320});
        shape.bindTooltip(function () { return element("span", district.name); }, {sticky: true});
        if (value === "restriction") state.layers[district.index] = shape;
      }
    });
    // Dashed groundwater-ban outlines go on top, so neighbours' borders never hide them.
    layer.on("add", function () {
      layer.eachLayer(function (shape) {
        if (state.districts[shape.feature.properties.index].groundwater && value === "restriction") shape.bringToFront();
      });
    });
    state.map = options.map;
    if (options.fit && features.length) {
      options.map.fitBounds(layer.getBounds(), {padding: [8, 8]});
    }
    return layer;
  }

  /* The language switch: Dutch by default, English by button or by #en in the address. */
  function languageSwitch(button, onChange) {
    function apply(lang) {
      document.documentElement.lang = lang;
      button.textContent = lang === "nl" ? "English" : "Nederlands";
      button.lang = lang === "nl" ? "en" : "nl";
      onChange.forEach(function (callback) { callback(lang); });
    }
    button.addEventListener("click", function () {
      var lang = currentLang() === "nl" ? "en" : "nl";
      history.replaceState(null, "", lang === "en" ? "#en" : "#nl");
      apply(lang);
    });
    if (location.hash === "#en") apply("en");
  }

  /* The dashboard's layer switch: radio buttons outside the map choose the one layer shown
     (fills of several layers would blend into nonsense) and the legend that explains it.
     `groups` maps each radio value to its Leaflet layer group. */
  function layerSwitch(map, groups, fieldset) {
    var legends = document.querySelectorAll("div[data-legend]");
    var legendOf = {};
    Object.keys(groups).forEach(function (key) {
      var input = fieldset.querySelector("input[value='" + key + "']");
      legendOf[key] = input ? input.dataset.showsLegend || key : key;
    });

    function show(key) {
      map.closePopup();
      Object.keys(groups).forEach(function (other) {
        if (other !== key && map.hasLayer(groups[other])) map.removeLayer(groups[other]);
      });
      if (!map.hasLayer(groups[key])) map.addLayer(groups[key]);
      Array.prototype.forEach.call(legends, function (legend) {
        legend.hidden = legend.dataset.legend !== legendOf[key];
      });
    }

    fieldset.addEventListener("change", function (event) {
      if (event.target.name && groups[event.target.value]) show(event.target.value);
    });
    var checked = fieldset.querySelector("input:checked");
    show(checked && groups[checked.value] ? checked.value : Object.keys(groups)[0]);
    return {show: show, closePopups: function () { map.closePopup(); }};
  }

  /* Text alternatives in the page's language: elements carrying data-alt-nl/data-alt-en get
     them as `alt` (images) or `aria-label` (anything else). */
  function localiseLabels(root) {
    var lang = currentLang();
    Array.prototype.forEach.call(root.querySelectorAll("[data-alt-nl]"), function (node) {
      var text = node.dataset["alt" + (lang === "en" ? "En" : "Nl")];
      node.setAttribute(node.tagName === "IMG" ? "alt" : "aria-label", text);
    });
  }

  window.droogte = {
    districtLayer: districtLayer,
    languageSwitch: languageSwitch,
    layerSwitch: layerSwitch,
    localiseLabels: localiseLabels,
    decodeGeometry: decodeGeometry,
    decodeShape: decodeShape
  };
})();
