// The small part of Finesse's gadget container (gadgets.*) that the CORS Quick Check gadget uses,
// so it runs in the desktop simulator as it runs in Finesse. finesse.min.js plays finesse.js.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("simulator-config").textContent);
  var post = function (msg) { window.parent.postMessage(msg, window.location.origin); };
  var prefs = { locale: cfg.locale, scheme: "https", host: window.location.hostname, hostPort: window.location.port };
  window.gadgets = {
    HubSettings: { onConnect: null },
    window: {
      adjustHeight: function (h) {
        post({ type: "adjustHeight", height: typeof h === "number" ? h : document.documentElement.scrollHeight });
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
