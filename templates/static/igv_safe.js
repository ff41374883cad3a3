/* ShallowChrome: igv.js popups that cannot run code.
   igv.js writes popup names and values with innerHTML; a gene symbol or any other field of a user's file
   could carry markup. shallowchromeSafePopups(browser) makes every popup from escaped text. */
(function () {
  function escapeHtml(value) {
    return String(value).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  /* Numbers as the pages print them (shallowchrome.tracks.numbers): no negative zero, p-values to 3
     significant digits ("< 1e-300" when one underflowed), NA when missing. */
  function num(value, digits, signed) {
    var x = Number(value);
    if (value === "" || value === null || !isFinite(x)) return "NA";
    var text = x.toFixed(digits);
    if (Number(text) === 0) return (0).toFixed(digits);
    return (signed && x > 0 ? "+" : "") + text;
  }
  function sig(value, digits) {  /* Python's "%.{digits}g" */
    var x = Number(value);
    if (value === "" || value === null || !isFinite(x)) return "NA";
    if (x === 0) return "0";
    if (Math.abs(Number(x.toPrecision(digits))) >= Math.pow(10, digits)) {
      return Math.round(x).toLocaleString("en-US");  /* 102,156, not 1.02e+05 */
    }
    var exponent = Math.floor(Math.log10(Math.abs(Number(x.toPrecision(digits)))));
    if (exponent < -4 || exponent >= digits) {
      var parts = x.toExponential(digits - 1).split("e");
      var mantissa = parts[0].indexOf(".") >= 0 ? parts[0].replace(/\.?0+$/, "") : parts[0];
      var e = Number(parts[1]);
      return mantissa + "e" + (e < 0 ? "-" : "+") + (Math.abs(e) < 10 ? "0" : "") + Math.abs(e);
    }
    var fixed = x.toFixed(Math.max(0, digits - 1 - exponent));
    return fixed.indexOf(".") >= 0 ? fixed.replace(/\.?0+$/, "") : fixed;
  }
  function pvalue(value) {
    var x = Number(value);
    if (value === "" || value === null || !isFinite(x)) return "NA";
    return x < 1e-300 ? "< 1e-300" : sig(x, 3);
  }
  /* The prediction bigBed's autoSql fields (tracks/hub/items.py) by readable name, with their format;
     igv.js names a field as the file does, sometimes capitalised (Contrib_H3K4me3); the report pages'
     gffTags (tracks/reports/tracks.py) say psi_H3K4me3 and P(ON). */
  var FIELDS = [
    [/^(?:contrib|psi)_(.+)$/i, function (m) { return m[1] + " \u03c8"; }, function (v) { return num(v, 2, true); }],
    [/^pvalue_(.+)$/i, function (m) { return "p (" + m[1] + ")"; }, pvalue],
    [/^(?:probability|P\(ON\))$/i, function () { return "P(ON)"; }, function (v) { return num(v, 3); }],
    [/^logit$/i, function () { return "logit"; }, function (v) { return num(v, 2); }],
    [/^rpkm$/i, function () { return "RPKM"; }, function (v) { return sig(v, 3); }],
    [/^top_mark$/i, function () { return "top mark"; }, null],
    [/^top_contrib$/i, function () { return "top mark \u03c8"; }, function (v) { return num(v, 2, true); }],
    [/^gene_id$/i, function () { return "gene id"; }, null],
    [/^chromhmm_state$/i, function () { return "ChromHMM at TSS"; }, null],
  ];
  function readable(item) {
    var name = String(item.name).replace(/:$/, "");
    if (/^strand$/i.test(name) && item.value !== "+" && item.value !== "-") return null;  /* "." : unknown */
    for (var i = 0; i < FIELDS.length; i++) {
      var m = FIELDS[i][0].exec(name);
      if (m) return {name: FIELDS[i][1](m), value: FIELDS[i][2] ? FIELDS[i][2](item.value) : item.value};
    }
    return item;
  }
  function popupHtml(track, data) {
    if (!data || !data.length) return false;
    return data.map(function (item) {
      if (item === "<hr>" || (item && item.html !== undefined && item.name === undefined)) return "<hr>";
      if (item && item.name !== undefined) {
        item = readable(item);
        if (item === null) return "";
        return "<div><span>" + escapeHtml(item.name) + "</span>&nbsp;&nbsp;&nbsp;" +
          escapeHtml(item.value === undefined ? "" : item.value) + "</div>";
      }
      return "<div>" + escapeHtml(item) + "</div>";
    }).join("");
  }
  window.shallowchromePopupItem = readable;  /* for tests */
  window.shallowchromeEscapeHtml = escapeHtml;
  window.shallowchromeSafePopups = function (browser) {
    browser.on("trackclick", popupHtml);
    return browser;
  };
})();
