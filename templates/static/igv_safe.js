/* ShallowChrome: igv.js popups that cannot run code.
   igv.js writes popup names and values with innerHTML; a gene symbol or any other field of a user's file
   could carry markup. shallowchromeSafePopups(browser) makes every popup from escaped text. */
(function () {
  function escapeHtml(value) {
    return String(value).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function popupHtml(track, data) {
    if (!data || !data.length) return false;
    return data.map(function (item) {
      if (item === "<hr>" || (item && item.html !== undefined && item.name === undefined)) return "<hr>";
      if (item && item.name !== undefined) {
        return "<div><span>" + escapeHtml(item.name) + "</span>&nbsp;&nbsp;&nbsp;" +
          escapeHtml(item.value === undefined ? "" : item.value) + "</div>";
      }
      return "<div>" + escapeHtml(item) + "</div>";
    }).join("");
  }
  window.shallowchromeEscapeHtml = escapeHtml;
  window.shallowchromeSafePopups = function (browser) {
    browser.on("trackclick", popupHtml);
    return browser;
  };
})();
