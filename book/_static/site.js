/* Backprop by hand: small fixes on top of the themes (issue 13). Loaded on every page.
 *
 * 1. Scroll cues: a display equation, long inline formula, table, code block or figure
 *    that is wider than the column scrolls sideways; while there is more to see on a side it gets the class
 *    scroll-more-right / scroll-more-left, which site.css turns into a fade on that side.
 * 2. Search results without raw TeX: Sphinx builds a result's snippet from the text of
 *    the page, where inline maths is still its source ("\(L = (x + y)\, z\)"), and its
 *    title from the index, where a section title keeps its maths as TeX; both are turned
 *    into plain text ("L = (x + y) z").
 */
(function () {
  "use strict";

  /* ---- 1. scroll cues ---------------------------------------------------------- */
  var SCROLLERS = [
    'div.math mjx-container[display="true"]',
    ".bd-article span.math",
    ".pst-scrollable-table-container",
    ".bd-article .table-wrapper",
    "figure.compgraph a.image-reference",
    ".bd-article div.highlight pre",
  ].join(",");

  /* A block is wide when its content overflows by more than rounding (3 px). */
  function updateCue(el) {
    var more = el.scrollWidth - el.clientWidth;
    var wide = more > 3;
    el.classList.toggle("is-wide", wide);
    el.classList.toggle("scroll-more-left", wide && el.scrollLeft > 1);
    el.classList.toggle("scroll-more-right", wide && el.scrollLeft < more - 1);
  }

  function scanScrollers() {
    document.querySelectorAll(SCROLLERS).forEach(function (el) {
      if (!el.classList.contains("scroll-x")) {
        el.classList.add("scroll-x");
        el.addEventListener("scroll", function () { updateCue(el); }, { passive: true });
      }
      updateCue(el);
    });
  }

  var pending = null;
  function scanSoon() {
    if (pending) { clearTimeout(pending); }
    pending = setTimeout(function () { pending = null; scanScrollers(); }, 150);
  }

  function whenMathDone(callback) {
    var mj = window.MathJax;
    if (mj && mj.startup && mj.startup.promise) {
      mj.startup.promise.then(callback);
    } else {
      callback();
    }
  }

  document.addEventListener("DOMContentLoaded", scanScrollers);
  window.addEventListener("load", function () {
    scanScrollers();
    whenMathDone(scanScrollers);
  });
  window.addEventListener("resize", scanSoon);

  /* ---- 2. search snippets without TeX -------------------------------------------- */
  var SYMBOLS = {
    alpha: "\u03b1", beta: "\u03b2", gamma: "\u03b3", delta: "\u03b4", Delta: "\u0394",
    epsilon: "\u03b5", varepsilon: "\u03b5", eta: "\u03b7", theta: "\u03b8",
    lambda: "\u03bb", mu: "\u03bc", pi: "\u03c0", sigma: "\u03c3", Sigma: "\u03a3",
    tau: "\u03c4", phi: "\u03c6", varphi: "\u03c6", psi: "\u03c8", omega: "\u03c9",
    partial: "\u2202", nabla: "\u2207", cdot: "\u00b7", times: "\u00d7", odot: "\u2299",
    le: "\u2264", leq: "\u2264", ge: "\u2265", geq: "\u2265", ne: "\u2260", neq: "\u2260",
    approx: "\u2248", infty: "\u221e", sum: "\u03a3", prod: "\u03a0", in: "\u2208",
    to: "\u2192", rightarrow: "\u2192", leftarrow: "\u2190", mapsto: "\u21a6",
    top: "\u1d40", ell: "\u2113", pm: "\u00b1", mid: "|", lVert: "\u2016",
    rVert: "\u2016", Vert: "\u2016", ldots: "\u2026", dots: "\u2026", cdots: "\u22ef",
    ln: "ln", log: "log", exp: "exp", max: "max", min: "min", arg: "arg",
  };

  /* Plain text of a TeX formula: delimiters, spacing and markup commands dropped,
   * fractions written with "/", Greek letters and common symbols as Unicode. */
  function plainMath(tex) {
    var s = tex.trim()
      .replace(/^\\\(|\\\)$/g, "").replace(/^\\\[|\\\]$/g, "").replace(/^\$\$?|\$\$?$/g, "")
      .replace(/\\(begin|end)\{[^{}]*\}/g, " ")
      .replace(/\\left|\\right|\\big|\\Big|\\bigg|\\Bigg/g, "")
      .replace(/\\[,;:! ]|\\q?quad|~/g, " ")
      .replace(/\\\\|&/g, " ")
      .replace(/\\\|/g, "\u2016");
    var before;
    do {  // innermost groups first
      before = s;
      s = s.replace(/\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}/g, "$1/$2")
        .replace(/\\sqrt\s*\{([^{}]*)\}/g, "\u221a($1)")
        .replace(/\\hat\s*(?:\{([^{}]*)\}|([A-Za-z]))/g, "$1$2\u0302")
        .replace(/\\vec\s*(?:\{([^{}]*)\}|([A-Za-z]))/g, "$1$2\u20d7")
        .replace(/\\(?:mathbf|mathrm|mathit|mathcal|boldsymbol|text|textrm|operatorname|bar|tilde|overline)\s*\{([^{}]*)\}/g, "$1")
        .replace(/([_^])\{([^{}]*)\}/g, "$1$2");
    } while (s !== before);
    s = s.replace(/\\([A-Za-z]+)/g, function (m, name) {
      return Object.prototype.hasOwnProperty.call(SYMBOLS, name) ? SYMBOLS[name] : "";
    });
    return s.replace(/[{}]/g, "").replace(/\\/g, "").replace(/\^\s*\u1d40/g, "\u1d40")
      .replace(/\s+/g, " ").trim();
  }
  window.bookPlainMath = plainMath;   // for the browser tests

  function patchSearch() {
    if (typeof Search === "undefined" || !Search.htmlToText || Search.htmlToText.plainMath) {
      return;
    }
    var original = Search.htmlToText;
    var patched = function (htmlString, anchor) {
      var doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll(".math").forEach(function (el) {
        el.textContent = plainMath(el.textContent);
      });
      return original(doc.documentElement.outerHTML, anchor);
    };
    patched.plainMath = true;
    Search.htmlToText = patched;

    var setIndex = Search.setIndex;
    Search.setIndex = function (index) {
      var plain = function (title) { return /\\/.test(title) ? plainMath(title) : title; };
      if (index && Array.isArray(index.titles)) {
        index.titles = index.titles.map(plain);
      }
      if (index && index.alltitles) {
        var all = {};
        Object.keys(index.alltitles).forEach(function (title) {
          all[plain(title)] = index.alltitles[title];
        });
        index.alltitles = all;
      }
      return setIndex.call(Search, index);
    };
  }

  patchSearch();
  document.addEventListener("DOMContentLoaded", patchSearch);
})();
