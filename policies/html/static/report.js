/* govnet report: the network map. Plain script, no library, nothing fetched.
 *
 * Data (policies/html/network_map.py): sites [name, level, parent, x, y, phase, depth] sorted by depth,
 * nodes [name, site, domain, role, phase, x, y], links [a, b, phase, joins two domains].
 * A site is open (its nodes drawn, its child sites as bubbles) or collapsed (one bubble with the count of
 * the nodes below it). Sites below the collapse depth start collapsed; a click on a bubble opens it, a click
 * on the label of an opened site closes it again. Drag pans, the wheel and the buttons zoom, the check
 * boxes and the phase list filter. window.govnetMap lets a test look at the state.
 */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var dataNode = document.getElementById("map-data");
  var svg = document.getElementById("map");
  if (!dataNode || !svg) { return; }
  var data = JSON.parse(dataNode.textContent);
  var texts = JSON.parse(document.getElementById("map-texts").textContent);
  var viewport = document.getElementById("map-viewport");
  var statusLine = document.getElementById("map-status");
  var sites = data.sites, nodes = data.nodes, links = data.links;
  var ROLE_SIZE = { core_router: 0.55, router: 0.42, firewall: 0.5, one_way_gateway: 0.5, vpn_gateway: 0.48,
                    cloud: 0.65, aggregation: 0.4, switch: 0.36, access_switch: 0.32, server: 0.34, mcu: 0.38,
                    host: 0.26 };
  var LABELLED = { core_router: 1, firewall: 1, one_way_gateway: 1, vpn_gateway: 1, cloud: 1 };  // labelled first
  var OPEN = -2, HIDDEN = -1;
  var open = new Uint8Array(sites.length);
  var opened = new Uint8Array(sites.length);  // opened by a click (may be closed again)
  var domainOn = data.domains.map(function () { return true; });
  var phaseMax = -1;
  var view = { x: 0, y: 0, w: 1000, h: 600 };
  var shown = { nodes: 0, bubbles: 0, links: 0 };
  var labels = [];  // {el, x, y, width (pixels at 12 px), priority}: placed without overlap on every view change
  var LABEL_PX = 12;
  var dots = [];  // {el, r (layout units), px (least radius in pixels)}: sized again on every view change

  function textWidth(text) {
    var w = 0;
    for (var i = 0; i < text.length; i++) { w += text.charCodeAt(i) >= 0x2e80 ? LABEL_PX : LABEL_PX * 0.6; }
    return w;
  }

  function label(parent, x, y, text, cls, priority) {
    var t = el("text", { x: x, y: y, "text-anchor": "middle", "class": cls }, parent);
    t.textContent = text;
    var entry = { el: t, x: x, y: y, width: textWidth(text), priority: priority, below: null };
    labels.push(entry);
    return entry;
  }

  function resetOpen() {
    for (var s = 0; s < sites.length; s++) { open[s] = sites[s][6] < data.collapse ? 1 : 0; opened[s] = 0; }
  }

  function counted(j) {
    var n = nodes[j];
    return domainOn[n[2]] && (phaseMax < 0 || n[4] <= phaseMax);
  }

  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) { if (Object.prototype.hasOwnProperty.call(attrs, k)) { e.setAttribute(k, attrs[k]); } }
    if (parent) { parent.appendChild(e); }
    return e;
  }

  function representatives() {
    var rep = new Int32Array(sites.length);
    for (var s = 0; s < sites.length; s++) {
      var p = sites[s][2];
      if (p < 0 || rep[p] === OPEN) { rep[s] = open[s] ? OPEN : s; } else { rep[s] = rep[p]; }
    }
    return rep;
  }

  function render() {
    var rep = representatives();
    var counts = new Int32Array(sites.length);
    var key = new Array(nodes.length);
    var j, n;
    for (j = 0; j < nodes.length; j++) {
      if (!counted(j)) { key[j] = null; continue; }
      var r = rep[nodes[j][1]];
      if (r === OPEN) { key[j] = "n" + j; } else { key[j] = "s" + r; counts[r]++; }
    }
    while (viewport.firstChild) { viewport.removeChild(viewport.firstChild); }
    labels = [];
    dots = [];
    var gLinks = el("g", {}, viewport), gSites = el("g", {}, viewport), gNodes = el("g", {}, viewport);
    var gLabels = el("g", { "class": "labels" }, viewport);
    var bundles = {}, order = [];
    for (var k = 0; k < links.length; k++) {
      var l = links[k];
      var ka = key[l[0]], kb = key[l[1]];
      if (!ka || !kb || ka === kb || (phaseMax >= 0 && l[2] > phaseMax)) { continue; }
      var id = ka < kb ? ka + "|" + kb : kb + "|" + ka;
      if (!bundles[id]) { bundles[id] = { a: ka, b: kb, count: 0, cross: 0 }; order.push(id); }
      bundles[id].count++; bundles[id].cross |= l[3];
    }
    function at(k) {
      if (k.charAt(0) === "n") { var m = nodes[+k.slice(1)]; return [m[5], m[6]]; }
      var s = sites[+k.slice(1)]; return [s[3], s[4]];
    }
    order.forEach(function (id) {
      var b = bundles[id], pa = at(b.a), pb = at(b.b);
      var cls = "mlink" + (b.cross ? " cross" : "") + (b.count > 1 ? " bundle" : "");
      el("line", { x1: pa[0], y1: pa[1], x2: pb[0], y2: pb[1], "class": cls }, gLinks);
    });
    shown = { nodes: 0, bubbles: 0, links: order.length };
    var bounds = [Infinity, Infinity, -Infinity, -Infinity];
    function grow(x, y, r) {
      bounds[0] = Math.min(bounds[0], x - r); bounds[1] = Math.min(bounds[1], y - r);
      bounds[2] = Math.max(bounds[2], x + r); bounds[3] = Math.max(bounds[3], y + r);
    }
    for (var s = 0; s < sites.length; s++) {
      if (rep[s] !== s || counts[s] === 0) {
        if (rep[s] === OPEN && opened[s]) {
          var t = el("text", { x: sites[s][3], y: sites[s][4] - 1.5, "class": "site-close", "data-site": s }, gLabels);
          t.textContent = "⊖ " + sites[s][0];
          t.style.pointerEvents = "auto"; t.style.cursor = "pointer"; t.style.fill = "#1f3a5f";
        }
        continue;
      }
      var radius = Math.min(7, 1.1 + Math.sqrt(counts[s]) / 3);
      var c = el("circle", { cx: sites[s][3], cy: sites[s][4], r: radius, "class": "bubble", "data-site": s }, gSites);
      var dotEntry = { el: c, r: radius, px: Math.min(26, 7 + Math.sqrt(counts[s]) / 1.5), cy: sites[s][4] };
      dots.push(dotEntry);
      el("title", {}, c).textContent = sites[s][0] + " — " + counts[s] + " " + texts.nodes + " (" + texts.expand + ")";
      label(gLabels, sites[s][3], sites[s][4] + radius + 1.6, sites[s][0] + " (" + counts[s] + ")", "blabel",
            1e6 + counts[s]).below = dotEntry;
      grow(sites[s][3], sites[s][4], radius + 2);
      shown.bubbles++;
    }
    for (j = 0; j < nodes.length; j++) {
      if (!key[j] || key[j].charAt(0) !== "n") { continue; }
      n = nodes[j];
      var role = data.roles[n[3]];
      var size = ROLE_SIZE[role] || 0.3;
      var dot = el("circle", { cx: n[5], cy: n[6], r: size, fill: data.domains[n[2]].colour, "class": "mnode" }, gNodes);
      dots.push({ el: dot, r: size, px: 1.5 + size * 4 });
      el("title", {}, dot).textContent = n[0] + " · " + role + " · " + data.domains[n[2]].name + " · " + sites[n[1]][0];
      label(gLabels, n[5], n[6] + size + 0.9, n[0], "nlabel", (LABELLED[role] ? 2e3 : 0) + size * 100);
      grow(n[5], n[6], 1.5);
      shown.nodes++;
    }
    labels.sort(function (a, b) { return b.priority - a.priority; });
    statusLine.textContent = shown.nodes + " " + texts.nodes + ", " + shown.bubbles + " ⊕, " + shown.links + " —";
    return bounds;
  }

  function applyView() {
    svg.setAttribute("viewBox", view.x + " " + view.y + " " + view.w + " " + view.h);
    var px = svg.clientWidth || 1000, py = svg.clientHeight || 600;
    var unit = px / view.w;  // pixels per layout unit
    var group = viewport.querySelector(".labels");
    if (group) { group.setAttribute("font-size", (LABEL_PX / unit).toFixed(3)); }
    for (var d = 0; d < dots.length; d++) { dots[d].el.setAttribute("r", Math.max(dots[d].r, dots[d].px / unit)); }
    for (var k = 0; k < labels.length; k++) {  // a bubble's label just below the bubble as drawn
      var below = labels[k].below;
      if (below) {
        labels[k].y = below.cy + Math.max(below.r, below.px / unit) + (LABEL_PX + 2) / unit;
        labels[k].el.setAttribute("y", labels[k].y);
      }
    }
    placeLabels(unit, px, py);
  }

  function placeLabels(unit, px, py) {
    // most important first (big bubbles, cores, gateways); a label overlapping one already placed is hidden
    var order = labels;
    var cell = 64, grid = {};
    function key(i, j) { return i + "," + j; }
    for (var k = 0; k < order.length; k++) {
      var l = order[k];
      var sx = (l.x - view.x) * unit, sy = (l.y - view.y) * unit;
      var box = [sx - l.width / 2 - 3, sy - LABEL_PX - 2, sx + l.width / 2 + 3, sy + 4];
      var visible = box[2] > 0 && box[0] < px && box[3] > 0 && box[1] < py;
      var i0 = Math.floor(box[0] / cell), i1 = Math.floor(box[2] / cell);
      var j0 = Math.floor(box[1] / cell), j1 = Math.floor(box[3] / cell);
      for (var i = i0; visible && i <= i1; i++) {
        for (var j = j0; visible && j <= j1; j++) {
          var placed = grid[key(i, j)] || [];
          for (var q = 0; q < placed.length; q++) {
            var o = placed[q];
            if (box[0] < o[2] && o[0] < box[2] && box[1] < o[3] && o[1] < box[3]) { visible = false; break; }
          }
        }
      }
      l.el.style.display = visible ? "" : "none";
      if (!visible) { continue; }
      for (var a = i0; a <= i1; a++) {
        for (var b = j0; b <= j1; b++) { (grid[key(a, b)] = grid[key(a, b)] || []).push(box); }
      }
    }
  }

  function fit(bounds) {
    if (!isFinite(bounds[0])) { bounds = [0, 0, 100, 60]; }
    var w = Math.max(bounds[2] - bounds[0], 10), h = Math.max(bounds[3] - bounds[1], 10);
    var aspect = (svg.clientWidth || 1000) / (svg.clientHeight || 600);
    if (w / h > aspect) { h = w / aspect; } else { w = h * aspect; }
    view = { x: (bounds[0] + bounds[2]) / 2 - w * 0.55, y: (bounds[1] + bounds[3]) / 2 - h * 0.55, w: w * 1.1, h: h * 1.1 };
    applyView();
  }

  function zoom(factor, cx, cy) {
    if (cx === undefined) { cx = view.x + view.w / 2; cy = view.y + view.h / 2; }
    view = { x: cx - (cx - view.x) / factor, y: cy - (cy - view.y) / factor, w: view.w / factor, h: view.h / factor };
    applyView();
  }

  function toLayout(evt) {
    var r = svg.getBoundingClientRect();
    return [view.x + (evt.clientX - r.left) / r.width * view.w, view.y + (evt.clientY - r.top) / r.height * view.h];
  }

  svg.addEventListener("wheel", function (evt) {
    evt.preventDefault();
    var p = toLayout(evt);
    zoom(Math.pow(1.2, -evt.deltaY / 100), p[0], p[1]);
  }, { passive: false });

  var drag = null;
  svg.addEventListener("pointerdown", function (evt) {
    var target = evt.target;
    if (target.getAttribute && target.getAttribute("data-site") !== null) { return; }
    drag = { x: evt.clientX, y: evt.clientY, view: { x: view.x, y: view.y, w: view.w, h: view.h }, moved: false };
    svg.classList.add("dragging");
  });
  window.addEventListener("pointermove", function (evt) {
    if (!drag) { return; }
    var r = svg.getBoundingClientRect();
    var dx = (evt.clientX - drag.x) / r.width * view.w, dy = (evt.clientY - drag.y) / r.height * view.h;
    view = { x: drag.view.x - dx, y: drag.view.y - dy, w: view.w, h: view.h };
    applyView();
  });
  window.addEventListener("pointerup", function () { drag = null; svg.classList.remove("dragging"); });

  svg.addEventListener("click", function (evt) {
    var target = evt.target;
    var s = target.getAttribute ? target.getAttribute("data-site") : null;
    if (s === null) { return; }
    s = +s;
    if (target.classList.contains("bubble")) { open[s] = 1; opened[s] = 1; } else { open[s] = 0; opened[s] = 0; }
    render(); applyView();
  });

  document.getElementById("map-zoom-in").addEventListener("click", function () { zoom(1.5); });
  document.getElementById("map-zoom-out").addEventListener("click", function () { zoom(1 / 1.5); });
  document.getElementById("map-reset").addEventListener("click", function () { resetOpen(); fit(render()); });
  document.getElementById("map-open-all").addEventListener("click", function () {
    for (var s = 0; s < sites.length; s++) { open[s] = 1; }
    fit(render());
  });
  var boxes = document.querySelectorAll("#map-domains input");
  for (var b = 0; b < boxes.length; b++) {
    boxes[b].addEventListener("change", function (evt) {
      domainOn[+evt.target.getAttribute("data-domain")] = evt.target.checked; render(); applyView();
    });
  }
  document.getElementById("map-phase").addEventListener("change", function (evt) {
    phaseMax = +evt.target.value; render(); applyView();
  });

  window.govnetMap = {
    viewBox: function () { return { x: view.x, y: view.y, w: view.w, h: view.h }; },
    shown: function () { return { nodes: shown.nodes, bubbles: shown.bubbles, links: shown.links }; },
    openSite: function (name) {
      for (var s = 0; s < sites.length; s++) { if (sites[s][0] === name) { open[s] = 1; opened[s] = 1; } }
      render(); applyView();
    },
    siteCount: sites.length, nodeCount: nodes.length
  };
  resetOpen();
  fit(render());
  window.addEventListener("resize", applyView);
})();
