/* Draws the book's plotly figures (lrcourse; the build turns each figure into a JSON block).
 *
 * Loaded deferred after plotly.js. Each figure gets: one small shared template that follows the
 * theme's light/dark mode (transparent background, font and grid colours switch when the reader
 * toggles the mode: the pydata theme sets data-theme on <html>); role="img" and an aria-label
 * from its title and axis titles; a slider that moves from the keyboard (arrow keys, Home/End,
 * Page Up/Down); titles that wrap instead of being cut on a narrow screen.
 */
(function () {
  "use strict";

  var COLORWAY = ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692", "#B6E880",
                  "#FF97FF", "#FECB52"];
  var MODES = {
    light: {text: "#2a3f5f", grid: "#e5e9f0", zero: "#c9d1dd", legend: "rgba(255,255,255,0.8)", ink: "black",
            rail: "#f8fafc", border: "#bec8d9", active: "#dbdde0", hover: "white"},
    dark: {text: "#ced6dd", grid: "#373c44", zero: "#586170", legend: "rgba(20,24,30,0.8)", ink: "#e6e6e6",
           rail: "#2a2f37", border: "#6b7480", active: "#4a525e", hover: "#1e2228"}
  };
  var NARROW = 600;  // px: below this, titles wrap to the figure's width and the mode bar hides

  function mode() {
    return document.documentElement.dataset.theme === "dark" ? "dark" : "light";
  }

  function template(m) {
    var c = MODES[m];
    var axis = {color: c.text, gridcolor: c.grid, linecolor: c.grid, zerolinecolor: c.zero, zerolinewidth: 2,
                automargin: true, ticks: "", title: {standoff: 15}};
    return {layout: {
      font: {color: c.text}, paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      colorway: COLORWAY, xaxis: axis, yaxis: axis, legend: {bgcolor: c.legend}, title: {x: 0.05},
      hovermode: "closest", hoverlabel: {align: "left", bgcolor: c.hover, font: {color: c.text}},
      annotationdefaults: {arrowcolor: c.text, arrowhead: 0, arrowwidth: 1},
      shapedefaults: {line: {color: c.text}},
      sliderdefaults: {bgcolor: c.rail, bordercolor: c.border, activebgcolor: c.active, tickcolor: c.text,
                       font: {color: c.text}}
    }};
  }

  // -- data ------------------------------------------------------------------------------
  var TYPES = {f4: Float32Array, f8: Float64Array, i1: Int8Array, u1: Uint8Array, i2: Int16Array,
               u2: Uint16Array, i4: Int32Array, u4: Uint32Array};

  function typed(spec) {
    var bytes = Uint8Array.from(atob(spec.bdata), function (ch) { return ch.charCodeAt(0); });
    var array;
    if (spec.dtype === "q2") {  // 16-bit codes between lo and hi (of log10 when spec.log); 65535 = gap
      var codes = new Uint16Array(bytes.buffer), span = spec.hi - spec.lo;
      array = new Float64Array(codes.length);
      for (var i = 0; i < codes.length; i++) {
        var t = spec.lo + codes[i] / 65534 * span;
        array[i] = codes[i] === 65535 ? NaN : (spec.log ? Math.pow(10, t) : t);
      }
    } else {
      array = new TYPES[spec.dtype](bytes.buffer);
    }
    if (!spec.shape) return array;
    var shape = String(spec.shape).split(",").map(Number);
    if (shape.length !== 2) return array;
    var rows = [];
    for (var r = 0; r < shape[0]; r++) rows.push(array.subarray(r * shape[1], (r + 1) * shape[1]));
    return rows;
  }

  function unpack(value) {
    if (Array.isArray(value)) return value.map(unpack);
    if (value && typeof value === "object") {
      if (typeof value.bdata === "string" && (TYPES[value.dtype] || value.dtype === "q2")) return typed(value);
      var out = {};
      for (var key in value) out[key] = unpack(value[key]);
      return out;
    }
    return value;
  }

  // -- text alternatives ------------------------------------------------------------------
  function plain(text) {
    var el = document.createElement("span");
    el.innerHTML = String(text || "").replace(/<br\s*\/?>/gi, " ");
    return el.textContent.replace(/\s+/g, " ").trim();
  }

  function titleOf(obj) {
    if (!obj) return "";
    return plain(typeof obj.title === "string" ? obj.title : (obj.title && obj.title.text));
  }

  function description(gd) {
    var layout = gd.layout, parts = [];
    parts.push(titleOf(layout) || "Figure");
    Object.keys(layout).filter(function (k) { return /^[xy]axis\d*$/.test(k); }).sort().forEach(function (k) {
      var t = titleOf(layout[k]);
      if (t) parts.push(k.charAt(0) + " axis: " + t);
    });
    var slider = layout.sliders && layout.sliders[0];
    if (slider && slider.steps && slider.steps.length) {
      parts.push("A slider below sets " + sliderName(slider) + " from " + slider.steps[0].label + " to " +
                 slider.steps[slider.steps.length - 1].label);
    }
    return parts.join(". ") + ".";
  }

  function sliderName(slider) {
    var prefix = (slider.currentvalue && slider.currentvalue.prefix) || "value";
    return prefix.replace(/[=:]\s*$/, "").trim() || "value";
  }

  // -- theme --------------------------------------------------------------------------------
  var INK = /^(black|#000|#000000|rgb\(0, ?0, ?0\))$/i;
  var PAPER = /^(white|#fff|#ffffff|rgba?\(255, ?255, ?255(, ?[0-9.]+)?\))$/i;

  function remember(gd) {  // explicit black ink and white boxes, which the template cannot switch
    var ink = [], boxes = [], scales = [];
    gd.data.forEach(function (trace, i) {
      ["line.color", "marker.color", "marker.line.color", "textfont.color"].forEach(function (path) {
        var v = path.split(".").reduce(function (o, k) { return o && o[k]; }, trace);
        if (typeof v === "string" && INK.test(v)) ink.push({trace: i, path: path});
      });
      var scale = trace.colorscale;
      var first = Array.isArray(scale) && scale[0] && scale[0][1];
      if ((trace.type === "heatmap" || trace.type === "contour") &&
          ((typeof first === "string" && PAPER.test(first)) || scale === "Greys")) {
        scales.push({trace: i, reverse: !!trace.reversescale});
      }
    });
    (gd.layout.shapes || []).forEach(function (shape, i) {
      if (shape.line && INK.test(shape.line.color || "")) ink.push({layout: "shapes[" + i + "].line.color"});
    });
    (gd.layout.annotations || []).forEach(function (note, i) {
      if (note.font && INK.test(note.font.color || "")) ink.push({layout: "annotations[" + i + "].font.color"});
      if (note.bgcolor && PAPER.test(note.bgcolor)) boxes.push("annotations[" + i + "].bgcolor");
    });
    if (gd.layout.legend && PAPER.test(gd.layout.legend.bgcolor || "")) boxes.push("legend.bgcolor");
    gd._lrc.themed = {ink: ink, boxes: boxes, scales: scales};
  }

  function applyTheme(gd) {
    var m = mode();
    if (gd._lrc.mode === m) return Promise.resolve();
    gd._lrc.mode = m;
    var c = MODES[m], t = gd._lrc.themed, relayout = {template: template(m)};
    var restyle = [];
    t.ink.forEach(function (item) {
      if (item.layout) relayout[item.layout] = c.ink;
      else restyle.push([item.trace, item.path, c.ink]);
    });
    t.boxes.forEach(function (path) { relayout[path] = c.legend; });
    t.scales.forEach(function (s) { restyle.push([s.trace, "reversescale", m === "dark" ? !s.reverse : s.reverse]); });
    var chain = Promise.resolve();
    restyle.forEach(function (r) {
      chain = chain.then(function () { var u = {}; u[r[1]] = r[2]; return Plotly.restyle(gd, u, [r[0]]); });
    });
    return chain.then(function () { return Plotly.relayout(gd, relayout); });
  }

  // -- narrow screens: wrap titles ------------------------------------------------------------
  function wrap(text, width) {
    return String(text).split(/<br\s*\/?>/i).map(function (line) {
      var out = [], current = "";
      line.split(" ").forEach(function (word) {
        var plainLength = plain(current + " " + word).length;
        if (current && plainLength > width) { out.push(current); current = word; }
        else current = current ? current + " " + word : word;
      });
      out.push(current);
      return out.join("<br>");
    }).join("<br>");
  }

  function lines(text) { return String(text).split(/<br\s*\/?>/i).length; }

  function fitTitles(gd, layout) {  // on the layout about to be drawn; returns true when it changed
    var s = gd._lrc, width = gd.clientWidth || window.innerWidth;
    var size = (layout.title && layout.title.font && layout.title.font.size) || 15;
    var chars = width < NARROW ? Math.max(20, Math.floor((width - 24) / (0.56 * size))) : 0;
    if (chars === s.chars) return false;
    s.chars = chars;
    var most = 0;
    function fit(text) {
      var t = chars ? wrap(text, chars) : text;
      most = Math.max(most, lines(t));
      return t;
    }
    layout.title = Object.assign({}, layout.title, {text: fit(s.title)});
    var slider = layout.sliders && layout.sliders[0];
    if (slider) {
      slider.steps.forEach(function (step, k) {
        if (s.stepTitles[k] !== undefined) step.args[1]["title.text"] = fit(s.stepTitles[k]);
      });
    }
    var top = s.marginTop;
    if (chars) top = Math.max(top, Math.round(most * size * 1.3 + 22));
    layout.margin = Object.assign({}, layout.margin, {t: top});
    if (chars) layout.title = Object.assign(layout.title, {y: 1, yref: "container", yanchor: "top", pad: {t: 8}});
    return true;
  }

  // -- keyboard slider --------------------------------------------------------------------------
  function goTo(gd, index) {
    var slider = gd.layout.sliders[0], n = slider.steps.length;
    index = Math.max(0, Math.min(n - 1, index));
    var step = slider.steps[index], args = step.args || [];
    var layout = Object.assign({}, args[1] || {}, {"sliders[0].active": index});
    if (step.method === "update") return Plotly.update(gd, args[0] || {}, layout, args[2]);
    if (step.method === "restyle") return Plotly.restyle(gd, args[0], args[1]).then(function () {
      return Plotly.relayout(gd, {"sliders[0].active": index});
    });
    return Plotly.relayout(gd, Object.assign({}, step.method === "relayout" ? args[0] : {},
                                             {"sliders[0].active": index}));
  }

  var KEYS = {ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: 5, PageDown: -5};

  function accessible(gd) {
    var svg = gd.querySelector(".main-svg");
    if (svg) {
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", description(gd));
    }
    gd.querySelectorAll(".modebar-btn").forEach(function (btn) {
      btn.setAttribute("role", "button");
      btn.setAttribute("aria-label", btn.getAttribute("data-title") || "figure tool");
    });
    var slider = gd.layout.sliders && gd.layout.sliders[0];
    var group = gd.querySelector(".slider-container");
    if (!slider || !group) return;
    var active = gd._fullLayout.sliders[0].active, steps = slider.steps;
    group.setAttribute("tabindex", "0");
    group.setAttribute("role", "slider");
    group.setAttribute("aria-label", sliderName(slider));
    group.setAttribute("aria-valuemin", "0");
    group.setAttribute("aria-valuemax", String(steps.length - 1));
    group.setAttribute("aria-valuenow", String(active));
    group.setAttribute("aria-valuetext", sliderName(slider) + " = " + steps[active].label);
    if (group._lrcKeys) return;
    group._lrcKeys = true;
    group.addEventListener("keydown", function (event) {
      var now = gd._fullLayout.sliders[0].active, last = steps.length - 1, next;
      if (event.key in KEYS) next = now + KEYS[event.key];
      else if (event.key === "Home") next = 0;
      else if (event.key === "End") next = last;
      else return;
      event.preventDefault();
      goTo(gd, next).then(function () {
        var again = gd.querySelector(".slider-container");
        if (again && document.activeElement !== again) again.focus();
      });
    });
  }

  // -- drawing ------------------------------------------------------------------------------------
  function draw(block) {
    var gd = document.getElementById(block.getAttribute("data-for"));
    if (!gd) return Promise.resolve();
    var figure = unpack(JSON.parse(block.textContent));
    var layout = figure.layout, config = Object.assign({responsive: true, displaylogo: false}, figure.config);
    var slider = layout.sliders && layout.sliders[0];
    gd._lrc = {title: (layout.title && layout.title.text) || "", marginTop: (layout.margin && layout.margin.t) || 100,
               stepTitles: slider ? slider.steps.map(function (s) { return s.args && s.args[1] && s.args[1]["title.text"]; }) : [],
               chars: -1, mode: null};
    gd.classList.add("lrc-figure");
    fitTitles(gd, layout);
    if (gd._lrc.chars) config.displayModeBar = false;
    layout.template = template(mode());
    gd._lrc.mode = mode();
    return Plotly.newPlot(gd, figure.data, layout, config).then(function () {
      remember(gd);
      if (gd._lrc.mode === "dark") {  // drawn with the dark template; now the explicit inks and boxes
        gd._lrc.mode = null;
        return applyTheme(gd);
      }
    }).then(function () {
      accessible(gd);
      gd.on("plotly_afterplot", function () { accessible(gd); });
    });
  }

  function refit() {
    document.querySelectorAll(".lrc-figure.js-plotly-plot").forEach(function (gd) {
      var layout = {title: gd.layout.title, margin: gd.layout.margin, sliders: gd.layout.sliders};
      if (fitTitles(gd, layout)) {
        Plotly.relayout(gd, {title: layout.title, margin: layout.margin});
      }
    });
  }

  function start() {
    var blocks = Array.prototype.slice.call(document.querySelectorAll("script.lrc-figure"));
    var chain = Promise.resolve();
    blocks.forEach(function (block) {  // one at a time, so the page stays responsive
      chain = chain.then(function () { return draw(block); }).catch(function (error) {
        console.error("lrcourse: a figure failed to draw", error);
      });
    });
    chain.then(function () { document.documentElement.dataset.lrcFigures = "drawn"; });
    new MutationObserver(function () {
      document.querySelectorAll(".lrc-figure.js-plotly-plot").forEach(applyTheme);
    }).observe(document.documentElement, {attributes: true, attributeFilter: ["data-theme"]});
    var timer;
    window.addEventListener("resize", function () { clearTimeout(timer); timer = setTimeout(refit, 200); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
