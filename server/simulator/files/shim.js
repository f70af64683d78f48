// The small part of Finesse's gadget container (gadgets.*) that the CORS Quick Check gadget uses,
// so it runs in the desktop simulator as it runs in Finesse. finesse.min.js plays finesse.js.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("simulator-config").textContent);
  var post = function (msg) { window.parent.postMessage(msg, window.location.origin); };
  var px = function (el, prop) { return parseInt(getComputedStyle(el)[prop], 10) || 0; };
  // contentHeight measures as Shindig's dynamic-height feature (gadgets.window.getHeight) does:
  // the lowest bottom edge (offsetTop + offsetHeight + margin-bottom) of any element in the body,
  // not looking inside boxes that clip their content, plus the body's own bottom border, padding
  // and margin. It never reads the viewport, so the frame can shrink, and a height that keeps
  // growing is the page's own doing, not the measurement's.
  var contentHeight = function () {
    var bottom = 0;
    var queue = [document.body];
    while (queue.length > 0) {
      var box = queue.shift();
      var style = getComputedStyle(box);
      if (box !== document.body && style.overflowY !== "visible" && style.height !== "auto") continue;
      for (var i = 0; i < box.children.length; i++) {
        var child = box.children[i];
        bottom = Math.max(bottom, child.offsetTop + child.offsetHeight + px(child, "marginBottom"));
        queue.push(child);
      }
    }
    return bottom + px(document.body, "borderBottomWidth") + px(document.body, "paddingBottom") + px(document.body, "marginBottom");
  };
  var lastHeight;
  var prefs = { locale: cfg.locale, scheme: "https", host: window.location.hostname, hostPort: window.location.port };
  window.gadgets = {
    HubSettings: { onConnect: null },
    window: {
      // Like Shindig's: a number sets the height; without one the content is measured. Only a
      // change reaches the container, and a measured 0 never does.
      adjustHeight: function (h) {
        var height = parseInt(h, 10);
        var measured = isNaN(height);
        if (measured) height = contentHeight();
        if (height === lastHeight || isNaN(height) || (measured && height === 0)) return;
        lastHeight = height;
        post({ type: "adjustHeight", height: height });
      },
      setTitle: function (t) { post({ type: "setTitle", title: String(t) }); }
    },
    Prefs: function () {
      return {
        getString: function (k) { return prefs[k] == null ? "" : String(prefs[k]); },
        getLang: function () { return cfg.locale.split("_")[0]; },
        getCountry: function () { return cfg.locale.split("_")[1] || ""; },
        set: function (k, v) { prefs[k] = v; }
      };
    },
    util: {
      getUrlParameters: function () {
        var out = {};
        new URLSearchParams(window.location.search).forEach(function (v, k) { out[k] = v; });
        return out;
      }
    }
  };
  window.addEventListener("load", function () {
    if (typeof window.gadgets.HubSettings.onConnect === "function") {
      window.gadgets.HubSettings.onConnect();
    }
  });
})();
