/*
 * droogte: the citizen page. "May I take water here, today?"
 *
 * Reads the page's one <script type="application/json" id="citizen-data"> block (written by
 * dashboards/citizen_map.py) and never contacts the network: the search, "use my location"
 * (the browser's geolocation; the position is only compared with the districts inside this
 * page and never leaves the device), the answer card, the orientation layer and the list
 * all run here. Text from data reaches the page only through textContent.
 */
(function () {
  "use strict";

  var MAX_SUGGESTIONS = 8;
  var LIST_LIMIT = 200;  // rows per group before a "show all" button: a phone stays responsive
  var NEAR_ZOOM = 10;    // from this zoom the municipality names show, below it the provinces
  var PLACE_ZOOM = 11;   // from this zoom the names of the larger places show
  var ALL_PLACES_ZOOM = 12;  // from this zoom every place's name shows (and municipalities' hide)
  var LARGE_PLACE = 5000;    // inhabitants: a place named from PLACE_ZOOM on
  var MAX_PLACE_LABELS = 120;  // labels drawn at once, largest places first: a phone stays quick
  var CANVAS_FROM = 3000;  // districts from which the map draws on a canvas instead of SVG

  function lang() {
    return document.documentElement.lang === "en" ? "en" : "nl";
  }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null && text !== "") node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function normalise(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
  }

  /* The compact geometry is decoded by assets/droogte-map.js (loaded with every map page). */
  function decodeShape(polygons, scale) {
    return window.droogte.decodeShape(polygons, scale);
  }

  /* Ray casting over the decoded rings (lon/lat); holes count by the even-odd rule.
     Written here because the page loads no geometry library; districts are simple polygons. */
  function ringContains(ring, x, y) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }

  function shapeContains(polygons, x, y) {
    return polygons.some(function (rings) {
      var count = 0;
      rings.forEach(function (ring) { if (ringContains(ring, x, y)) count++; });
      return count % 2 === 1;
    });
  }

  function citizenPage(options) {
    var data = JSON.parse(options.dataElement.textContent);
    var map = options.map;
    var ui = function (key) { return data.ui[lang()][key]; };
    var districts = data.rows.map(function (row, index) {
      var d = {index: index};
      data.columns.forEach(function (column, j) {
        d[column] = column === "groundwater" || column === "board" ? row[j] : data.strings[row[j]];
      });
      d.shape = decodeShape(data.shapes[index], data.scale);
      return d;
    });
    var shapes = [];
    var selected = null;
    var current = null;  // what the card shows: {kind: "district", index} or {kind: "area", place}

    /* --- the map ------------------------------------------------------------------------ */
    function styleOf(d) {
      var style = data.styles[d.restriction];
      var chosen = selected === d.index;
      return {
        fillColor: style.pattern && !canvas ? "url(#" + style.pattern + ")" : style.colour, fillOpacity: 0.75,
        color: chosen ? "#000000" : (d.groundwater === 1 ? "#0072b2" : "#555555"),
        weight: chosen ? 4 : (d.groundwater === 1 ? 3 : 1), dashArray: d.groundwater === 1 && !chosen ? "6 4" : null, opacity: 1
      };
    }

    var orientation = data.orientation || {};
    map.createPane("orientation").style.zIndex = 450;
    map.getPane("orientation").style.pointerEvents = "none";
    map.createPane("labels").style.zIndex = 460;
    map.getPane("labels").style.pointerEvents = "none";
    // The names help the eye find a place; the search box is how others find one.
    map.getPane("labels").setAttribute("aria-hidden", "true");
    [["provinces", {color: "#222222", weight: 2.5, opacity: 0.9}],
     ["municipalities", {color: "#3d3d3d", weight: 1, opacity: 0.8, dashArray: "4 3"}]].forEach(function (spec) {
      (orientation[spec[0]] || []).forEach(function (area) {
        var rings = decodeShape(area.shape, orientation.scale);
        L.polygon(rings.map(function (p) { return p.map(function (r) { return r.map(function (c) { return [c[1], c[0]]; }); }); }),
                  L.extend({pane: "orientation", fill: false, interactive: false}, spec[1])).addTo(map);
        var label = el("span", area.name);
        L.marker([area.label[1], area.label[0]], {
          pane: "labels", interactive: false, keyboard: false,
          icon: L.divIcon({className: "place-label " + spec[0], html: label, iconSize: null})
        }).addTo(map);
      });
    });
    // Large waters (lakes and sea), under the districts: a fill only, no border to read as one.
    var waters = orientation.waters || {};
    if (waters.shapes && waters.shapes.length) {
      map.createPane("waters").style.zIndex = 350;
      map.getPane("waters").style.pointerEvents = "none";
      waters.shapes.forEach(function (shape) {
        L.polygon(latLngs(decodeShape(shape, orientation.scale)),
                  {pane: "waters", interactive: false, stroke: false, fillColor: "#a8d1ee", fillOpacity: 1}).addTo(map);
      });
    }
    (waters.labels || []).forEach(function (label) {
      L.marker([label[2], label[1]], {
        pane: "labels", interactive: false, keyboard: false,
        icon: L.divIcon({className: "place-label waters", html: el("span", label[0]), iconSize: null})
      }).addTo(map);
    });

    // Places (woonplaatsen) near the districts: [name, lon, lat, population, municipality,
    // "alt|alt"], largest first. Their names are drawn only at close zoom and only within
    // the view, so a national page does not carry a thousand labels at once.
    var nearPlaces = ((orientation.places || {}).near || []).map(function (p) {
      return {kind: "place", name: p[0], lon: p[1], lat: p[2], population: p[3], municipality: p[4],
              alternates: p[5] ? p[5].split("|") : []};
    });
    var placeLabels = L.layerGroup().addTo(map);
    function drawPlaceLabels() {
      placeLabels.clearLayers();
      var zoom = map.getZoom();
      if (zoom < PLACE_ZOOM) return;
      var view = map.getBounds(), drawn = 0;
      for (var i = 0; i < nearPlaces.length && drawn < MAX_PLACE_LABELS; i++) {
        var p = nearPlaces[i];
        if (zoom < ALL_PLACES_ZOOM && p.population < LARGE_PLACE) break;  // sorted by population
        if (!view.contains([p.lat, p.lon])) continue;
        L.marker([p.lat, p.lon], {
          pane: "labels", interactive: false, keyboard: false,
          icon: L.divIcon({className: "place-label places", html: el("span", p.name), iconSize: null})
        }).addTo(placeLabels);
        drawn++;
      }
    }

    function zoomClass() {
      var container = map.getContainer();
      container.classList.toggle("zoom-near", map.getZoom() >= NEAR_ZOOM);
      container.classList.toggle("zoom-far", map.getZoom() < NEAR_ZOOM);
      container.classList.toggle("zoom-close", map.getZoom() >= ALL_PLACES_ZOOM);
      // The waters are drawn at 1:10 million (shores about 1 km off): at close zoom that would
      // mislead more than it helps, and the place names orient instead.
      var watersPane = map.getPane("waters");
      if (watersPane) watersPane.style.display = map.getZoom() >= ALL_PLACES_ZOOM ? "none" : "";
    }
    map.on("zoomend", zoomClass);
    map.on("moveend", drawPlaceLabels);

    // Thousands of SVG paths take seconds to build on a phone; past CANVAS_FROM districts the
    // shapes are drawn on one canvas (plain colours: canvas has no SVG fill patterns; the level
    // number and name stay in the answer card, the list and the legend).
    var canvas = districts.length >= CANVAS_FROM ? L.canvas({padding: 0.2}) : null;
    function latLngs(polygons) {
      return polygons.map(function (rings) {
        return rings.map(function (ring) { return ring.map(function (c) { return [c[1], c[0]]; }); });
      });
    }
    // One polygon per district; the tooltip and the click are bound once on the group (one
    // handler for all, instead of one per shape: thousands of districts stay quick to build).
    var layer = L.featureGroup(districts.map(function (d) {
      var shape = L.polygon(latLngs(d.shape), L.extend({renderer: canvas || undefined}, styleOf(d)));
      shape.districtIndex = d.index;
      shapes[d.index] = shape;
      return shape;
    }));
    layer.bindTooltip(function (shape) { return el("span", districts[shape.districtIndex].name); }, {sticky: true});
    layer.on("click", function (event) { showDistrict(event.layer.districtIndex, {scroll: true, fit: false}); });
    layer.addTo(map);
    // The list and the search are the keyboard's and screen reader's way to a district: the
    // shapes stay out of the tab order (Leaflet makes shapes with a tooltip focusable).
    function quietShapes() {
      layer.eachLayer(function (shape) {
        var path = shape.getElement && shape.getElement();
        if (path) { path.setAttribute("tabindex", "-1"); path.setAttribute("aria-hidden", "true"); }
      });
    }
    quietShapes();
    if (districts.length) map.fitBounds(layer.getBounds(), {padding: [8, 8]});
    zoomClass();
    drawPlaceLabels();

    function localiseControls() {
      var zoomIn = map.getContainer().querySelector(".leaflet-control-zoom-in");
      var zoomOut = map.getContainer().querySelector(".leaflet-control-zoom-out");
      if (zoomIn) { zoomIn.title = ui("zoom_in"); zoomIn.setAttribute("aria-label", ui("zoom_in")); }
      if (zoomOut) { zoomOut.title = ui("zoom_out"); zoomOut.setAttribute("aria-label", ui("zoom_out")); }
      map.getContainer().setAttribute("aria-label", ui("map_label"));
    }

    function select(index, fit) {
      var before = selected;
      selected = index;
      if (before !== null && shapes[before]) shapes[before].setStyle(styleOf(districts[before]));
      if (index !== null && shapes[index]) {
        shapes[index].setStyle(styleOf(districts[index]));
        shapes[index].bringToFront();
        if (fit) map.fitBounds(shapes[index].getBounds(), {maxZoom: 12, padding: [16, 16]});
      }
    }

    /* --- the answer card ---------------------------------------------------------------- */
    var card = options.card;

    function headline(d) {
      var style = data.styles[d.restriction];
      var text = style["headline_" + lang()];
      if (d.groundwater === 1) {
        text += " " + data.groundwater[(d.restriction === "none" ? "headline_only_" : "headline_") + lang()];
      } else if (d.groundwater === 2) {  // unknown: its measurements are missing
        text += " " + data.groundwater["headline_unknown_" + lang()];
      }
      return text;
    }

    function field(list, label, content) {
      if (!content) return;
      list.appendChild(el("dt", label));
      var dd = el("dd");
      if (typeof content === "string") dd.textContent = content; else dd.appendChild(content);
      list.appendChild(dd);
    }

    function exemptionList(text) {
      if (!text) return null;
      var ul = el("ul", null, "exemptions");
      text.split("; ").forEach(function (line) { ul.appendChild(el("li", line)); });
      return ul;
    }

    function boardInfo(d) {
      var board = data.boards[d.board];
      var box = el("span");
      box.appendChild(document.createTextNode(board["name_" + lang()]));
      [["announcement_url", "announcement"], ["contact_url", "contact"]].forEach(function (pair) {
        if (!board[pair[0]]) return;
        box.appendChild(document.createTextNode(" \u00b7 "));
        var a = el("a", ui(pair[1]));
        a.href = board[pair[0]];
        a.rel = "noopener";
        box.appendChild(a);
      });
      return box;
    }

    // Every answer starts alike: an empty card with its title, which takes the focus
    // (tabIndex -1) so a screen reader reads the answer from its top.
    function startCard(className, name) {
      card.textContent = "";
      card.className = className;
      var title = el("h2", name);
      title.id = "card-title";
      title.tabIndex = -1;
      card.appendChild(title);
    }

    function districtCard(d) {
      var l = lang();
      var style = data.styles[d.restriction];
      startCard("answer-card level-" + style.level, d.name);
      var head = el("p", null, "headline");
      var badge = el("span", style.badge, "level level-" + style.level);
      badge.setAttribute("aria-hidden", "true");
      head.appendChild(badge);
      head.appendChild(document.createTextNode(" " + headline(d)));
      card.appendChild(head);
      if (d.change) card.appendChild(el("p", ui("change_" + d.change), "change-note"));
      var list = el("dl");
      field(list, ui("since_label"), ui(d.restriction === "none" ? "since_none" : d.restriction === "unknown" ? "since_unknown" : "since_text")
        .replace("{since}", d["since_" + l]).replace("{next}", data.dates["next_" + l]));
      field(list, ui("meaning"), d["meaning_" + l]);
      if (d.groundwater === 1) field(list, data.groundwater["label_" + l], data.groundwater["meaning_" + l]);
      field(list, ui("exemptions"), exemptionList(d["exemptions_" + l]));
      if (d.groundwater === 1) field(list, ui("exemptions_groundwater"), exemptionList(data.groundwater["exemptions_" + l]));
      field(list, ui("reason"), d["reason_" + l]);
      field(list, ui("water_board"), boardInfo(d));
      field(list, ui("data_age"), data.dates["ages_" + l]);
      card.appendChild(list);
      card.hidden = false;
    }

    function areaCard(place) {
      startCard("answer-card", place.name);
      var members = place.districts.map(function (i) { return districts[i]; });
      card.appendChild(el("p", ui("area_intro").replace("{kind}", ui("kind_" + place.kind))
        .replace("{n}", members.length), "headline"));
      card.appendChild(groupedList(members, {explain: false}));
      card.hidden = false;
    }

    function reveal(scroll) {
      var title = card.querySelector("h2");
      if (title) title.focus({preventScroll: !scroll});
      if (scroll) card.scrollIntoView({block: "start"});
    }

    function showDistrict(index, how) {
      current = {kind: "district", index: index};
      districtCard(districts[index]);
      select(index, how.fit);
      announce(ui("chosen").replace("{name}", districts[index].name).replace("{what}", headline(districts[index])));
      reveal(how.scroll);
    }

    function showPlace(place, how) {
      if (place.districts.length === 1) return showDistrict(place.districts[0], how);
      current = {kind: "area", place: place};
      areaCard(place);
      select(null, false);
      var bounds = L.latLngBounds([]);
      place.districts.forEach(function (i) { if (shapes[i]) bounds.extend(shapes[i].getBounds()); });
      if (how.fit && bounds.isValid()) map.fitBounds(bounds, {padding: [16, 16]});
      announce(ui("area_intro").replace("{kind}", ui("kind_" + place.kind)).replace("{n}", place.districts.length));
      reveal(how.scroll);
    }

    /* A place is answered by the district around its point, found here as for "my location";
       a place outside every district (or known only by name) gets a plain sentence. */
    var districtBoxes = null;
    function districtAt(x, y) {
      if (!districtBoxes) {
        districtBoxes = shapes.map(function (shape) { return shape.getBounds(); });
      }
      for (var i = 0; i < districts.length; i++) {
        if (districtBoxes[i].contains([y, x]) && shapeContains(districts[i].shape, x, y)) return i;
      }
      return null;
    }

    function placeNote(place, index) {
      var note = el("p", ui("place_in").replace("{name}", place.name).replace("{district}", districts[index].name),
                    "place-note");
      card.insertBefore(note, card.querySelector(".headline"));
    }

    function outsideCard(place) {
      startCard("answer-card", place.name);
      card.appendChild(el("p", ui("place_outside").replace("{name}", place.name), "headline"));
      card.appendChild(el("p", ui("place_outside_hint")));
      card.hidden = false;
    }

    function showPlacePoint(place, how) {
      var hit = place.kind === "place" ? districtAt(place.lon, place.lat) : null;
      if (hit !== null) {
        showDistrict(hit, how);
        current.place = place;
        placeNote(place, hit);
        announce(ui("place_in").replace("{name}", place.name).replace("{district}", districts[hit].name) + " " +
                 headline(districts[hit]));
        return;
      }
      current = {kind: "outside", place: place};
      outsideCard(place);
      select(null, false);
      if (place.kind === "place") map.setView([place.lat, place.lon], Math.max(map.getZoom(), PLACE_ZOOM));
      announce(ui("place_outside").replace("{name}", place.name));
      reveal(how.scroll);
    }

    /* --- the grouped list (also inside an area's card) ---------------------------------- */
    var order = Object.keys(data.styles).sort(function (a, b) { return data.styles[b].level - data.styles[a].level; });

    function districtButton(d) {
      var li = el("li");
      var button = el("button", d.name, "link-button");
      button.type = "button";
      button.addEventListener("click", function () { showDistrict(d.index, {scroll: true, fit: true}); });
      li.appendChild(button);
      var note = ui("since_short").replace("{since}", d["since_" + lang()]);
      if (d.groundwater === 1) note += "; " + data.groundwater["label_" + lang()].toLowerCase();
      if (d.groundwater === 2) note += "; " + data.groundwater["unknown_short_" + lang()];
      if (d.change) note += "; " + ui("change_short_" + d.change);
      li.appendChild(el("span", " \u2013 " + note, "note"));
      return li;
    }

    function groupedList(members, how) {
      var box = el("div", null, "groups");
      var l = lang();
      order.forEach(function (code) {
        var group = members.filter(function (d) { return d.restriction === code; });
        if (!group.length) return;
        var style = data.styles[code];
        var section = el("section", null, "group");
        var h = el(how.explain ? "h3" : "h3");
        var badge = el("span", style.badge, "level level-" + style.level);
        badge.setAttribute("aria-hidden", "true");
        h.appendChild(badge);
        h.appendChild(document.createTextNode(" " + style["label_" + l] + " (" + ui(group.length === 1 ? "one_district" : "n_districts").replace("{n}", group.length) + ")"));
        section.appendChild(h);
        if (how.explain) {
          // Shared by every district of the group: said once here, not once per district.
          var first = group[0];
          if (first["meaning_" + l]) section.appendChild(el("p", first["meaning_" + l]));
          var ex = exemptionList(first["exemptions_" + l]);
          if (ex) {
            section.appendChild(el("p", ui("exemptions") + ":", "sub"));
            section.appendChild(ex);
          }
        }
        var ul = el("ul", null, "district-list");
        var limit = how.all ? group.length : LIST_LIMIT;
        group.slice(0, limit).forEach(function (d) { ul.appendChild(districtButton(d)); });
        section.appendChild(ul);
        if (group.length > limit) {
          var more = el("button", ui("show_all").replace("{n}", group.length), "link-button more-rows");
          more.type = "button";
          more.addEventListener("click", function () {
            ul.textContent = "";
            group.forEach(function (d) { ul.appendChild(districtButton(d)); });
            more.remove();
          });
          section.appendChild(more);
        }
        box.appendChild(section);
      });
      return box;
    }

    var listBox = options.list;
    var listOpen = false;
    function renderList() {
      listBox.textContent = "";
      listBox.appendChild(groupedList(districts, {explain: true}));
      var ground = districts.filter(function (d) { return d.groundwater === 1; });
      if (ground.length) {
        var section = el("section", null, "group groundwater-group");
        section.appendChild(el("h3", data.groundwater["label_" + lang()] + " (" + ui(ground.length === 1 ? "one_district" : "n_districts").replace("{n}", ground.length) + ")"));
        section.appendChild(el("p", data.groundwater["meaning_" + lang()]));
        var ex = exemptionList(data.groundwater["exemptions_" + lang()]);
        if (ex) { section.appendChild(el("p", ui("exemptions") + ":", "sub")); section.appendChild(ex); }
        var ul = el("ul", null, "district-list");
        ground.slice(0, LIST_LIMIT).forEach(function (d) { ul.appendChild(districtButton(d)); });
        section.appendChild(ul);
        listBox.firstChild.appendChild(section);
      }
    }
    // Built when first opened: thousands of rows cost a phone nothing until someone asks.
    options.details.addEventListener("toggle", function () {
      if (options.details.open && !listOpen) { listOpen = true; renderList(); }
    });

    /* --- changes ------------------------------------------------------------------------ */
    function renderChanges() {
      var box = options.changes;
      if (!box) return;
      box.textContent = "";
      var changed = districts.filter(function (d) { return d.change; });
      if (!changed.length) return;
      var ul = el("ul", null, "district-list");
      changed.slice(0, LIST_LIMIT).forEach(function (d) { ul.appendChild(districtButton(d)); });
      box.appendChild(ul);
    }

    /* --- search ------------------------------------------------------------------------- */
    var input = options.search, listbox = options.suggestions, status = options.status;
    // Places far from the districts travel by name only ("name|alt|alt"): found, and told apart.
    var farPlaces = ((orientation.places || {}).far || []).map(function (entry) {
      var names = entry.split("|");
      return {kind: "place_far", name: names[0], alternates: names.slice(1), population: 0};
    });
    var places = districts.map(function (d) { return {kind: "district", name: d.name, districts: [d.index]}; })
      .concat(data.places, nearPlaces, farPlaces);
    places.forEach(function (p) {
      p.key = normalise(p.name);
      p.altKeys = (p.alternates || []).map(normalise);
    });
    // A place answers most precisely (the district around its point), a municipality next.
    var kindRank = {place: 0, municipality: 1, district: 2, water_board: 3, province: 4, place_far: 5};
    var matches = [], active = -1;

    function announce(text) {
      status.textContent = "";
      // A fresh text node each time, so screen readers announce a repeat of the same words.
      window.setTimeout(function () { status.textContent = text; }, 30);
    }

    function suggest() {
      var query = normalise(input.value);
      matches = [];
      active = -1;
      if (query) {
        // How well a place matches: 0 its name begins with the query, 1 another name does,
        // 2 its name contains it, 3 another name does, -1 no match. Remembers the other name.
        var rank = function (p) {
          p.via = "";
          if (p.key.indexOf(query) === 0) return 0;
          var alt = -1, inner = -1;
          for (var k = 0; k < p.altKeys.length; k++) {
            if (p.altKeys[k].indexOf(query) === 0) { alt = k; break; }
            if (inner < 0 && p.altKeys[k].indexOf(query) !== -1) inner = k;
          }
          if (alt >= 0) { p.via = p.alternates[alt]; return 1; }
          if (p.key.indexOf(query) !== -1) return 2;
          if (inner >= 0) { p.via = p.alternates[inner]; return 3; }
          return -1;
        };
        places.forEach(function (p) { p.rank = rank(p); });
        matches = places.filter(function (p) { return p.rank >= 0; });
        matches.sort(function (a, b) {
          return (a.rank > 1) - (b.rank > 1) || kindRank[a.kind] - kindRank[b.kind] ||
            (b.population || 0) - (a.population || 0) || a.rank - b.rank || a.name.localeCompare(b.name, lang());
        });
      }
      var total = matches.length;
      matches = matches.slice(0, MAX_SUGGESTIONS);
      listbox.textContent = "";
      matches.forEach(function (place, i) {
        var option = el("li", null, "suggestion");
        option.id = "suggestion-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.appendChild(el("span", place.name));
        var kind = ui("kind_" + place.kind);
        if (place.kind === "place" && place.municipality && place.municipality !== place.name) {
          kind = ui("place_of").replace("{municipality}", place.municipality);
        }
        if (place.via) kind += " (" + place.via + ")";
        option.appendChild(el("span", " " + kind, "kind"));
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });
        option.addEventListener("click", function () { choose(i); });
        listbox.appendChild(option);
      });
      var open = matches.length > 0;
      listbox.hidden = !open;
      input.setAttribute("aria-expanded", open ? "true" : "false");
      input.removeAttribute("aria-activedescendant");
      if (!query) { announce(""); return; }
      announce(total === 0 ? ui("no_results") : ui(total === 1 ? "one_result" : "n_results").replace("{n}", total));
    }

    function highlight(i) {
      active = i;
      Array.prototype.forEach.call(listbox.children, function (option, j) {
        option.setAttribute("aria-selected", j === i ? "true" : "false");
      });
      if (i >= 0) input.setAttribute("aria-activedescendant", "suggestion-" + i);
    }

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function choose(i) {
      var place = matches[i];
      if (!place) return;
      input.value = place.name;
      close();
      if (place.kind === "place" || place.kind === "place_far") showPlacePoint(place, {scroll: true, fit: true});
      else showPlace(place, {scroll: true, fit: true});
    }

    input.addEventListener("input", suggest);
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && matches.length) { highlight((active + 1) % matches.length); event.preventDefault(); }
      else if (event.key === "ArrowUp" && matches.length) { highlight(active <= 0 ? matches.length - 1 : active - 1); event.preventDefault(); }
      else if (event.key === "Enter") { if (matches.length) { choose(active >= 0 ? active : 0); event.preventDefault(); } }
      else if (event.key === "Escape") { close(); }
    });
    // Closed a moment after leaving the box (a click on a suggestion lands first), unless the
    // box has the focus again by then: typing straight after a choice keeps its suggestions.
    input.addEventListener("blur", function () {
      window.setTimeout(function () { if (document.activeElement !== input) close(); }, 150);
    });

    /* --- my location -------------------------------------------------------------------- */
    options.locate.addEventListener("click", function () {
      if (!navigator.geolocation) { announce(ui("locate_unsupported")); return; }
      announce(ui("locating"));
      navigator.geolocation.getCurrentPosition(function (position) {
        var x = position.coords.longitude, y = position.coords.latitude;
        var hit = null;
        for (var i = 0; i < districts.length && hit === null; i++) {
          if (shapeContains(districts[i].shape, x, y)) hit = i;
        }
        if (hit === null) { announce(ui("outside")); return; }
        showDistrict(hit, {scroll: true, fit: true});
      }, function () {
        announce(ui("locate_failed"));
      }, {enableHighAccuracy: false, timeout: 15000, maximumAge: 600000});
    });

    function render() {
      localiseControls();
      renderChanges();
      if (listOpen) renderList();
      if (current && current.kind === "district") {
        districtCard(districts[current.index]);
        if (current.place) placeNote(current.place, current.index);
      }
      else if (current && current.kind === "area") areaCard(current.place);
      else if (current && current.kind === "outside") outsideCard(current.place);
      if (!listbox.hidden) suggest();
    }
    render();
    document.body.setAttribute("data-map-ready", "true");  // for tests and benchmarks
    return {render: render, showDistrict: showDistrict};
  }

  window.droogteCitizen = {citizenPage: citizenPage, shapeContains: shapeContains};
})();
