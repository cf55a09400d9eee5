// History page: tidy filter URLs, refresh when data changes, day tips, quick ranges, toasts with undo.
(function () {
  "use strict";
  var REFRESH_EVENTS = ["history-changed", "sync-finished", "import-finished"];
  var refreshTimer = null;

  function filters() { return document.getElementById("history-filters"); }

  // Leave empty fields out of the request so pushed URLs stay short and bookmarkable.
  document.addEventListener("htmx:configRequest", function (evt) {
    if (evt.detail.elt !== filters() || evt.detail.verb !== "get") return;
    var params = evt.detail.parameters;
    ["start", "end", "q", "hidden"].forEach(function (name) {
      if (params[name] === "" || params[name] === undefined) delete params[name];
    });
  });

  // A fragment request that was redirected to the sign-in page (session ended): go there instead of swapping it in.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var url = evt.detail.xhr && evt.detail.xhr.responseURL;
    if (url && new URL(url).pathname === "/login") {
      evt.detail.shouldSwap = false;
      window.location.href = url;
    }
  });

  // Reload the results for the URL in the address bar when anything changed the data.
  function refresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      var results = document.getElementById("history-results");
      if (!results || !window.htmx) return;
      window.htmx.ajax("GET", window.location.pathname + window.location.search,
        { source: results, target: results, swap: "outerHTML" });
    }, 150);
  }
  REFRESH_EVENTS.forEach(function (name) { document.body.addEventListener(name, refresh); });

  function submitFilters(changes) {
    var form = filters();
    if (!form) return false;
    Object.keys(changes).forEach(function (name) {
      var field = form.elements.namedItem(name);
      if (field && "value" in field) field.value = changes[name];
    });
    form.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  }

  function clearFilters() {
    var form = filters();
    if (!form) return false;
    Array.prototype.forEach.call(form.querySelectorAll("input"), function (input) {
      if (input.type === "checkbox") input.checked = false;
      else if (input.type !== "hidden") input.value = "";
    });
    form.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  }

  function showTip(rect) {
    var card = rect.closest(".card");
    var box = card && card.querySelector("[data-tip-box]");
    var title = rect.querySelector("title");
    if (box && title) box.textContent = title.textContent;
  }

  document.addEventListener("click", function (evt) {
    var target = evt.target;
    var preset = target.closest("a[data-start]");
    if (preset && filters()) {
      evt.preventDefault();
      submitFilters({ start: preset.getAttribute("data-start"), end: preset.getAttribute("data-end") });
      return;
    }
    if (target.closest("[data-clear-filters]") && clearFilters()) {
      evt.preventDefault();
      return;
    }
    var day = target.closest("rect[data-day]");
    if (day && filters()) {
      evt.preventDefault();
      showTip(day);
      submitFilters({ start: day.getAttribute("data-day"), end: day.getAttribute("data-day") });
      return;
    }
    var bar = target.closest("rect[data-tip]");
    if (bar) showTip(bar);
    var opener = target.closest("[data-open-add]");
    if (opener) {
      var details = document.getElementById("add-activity");
      if (details) {
        evt.preventDefault();
        details.open = true;
        details.scrollIntoView({ block: "nearest" });
        var first = details.querySelector("input:not([type=hidden])");
        if (first) first.focus();
      }
    }
  });

  ["mouseover", "focusin"].forEach(function (name) {
    document.addEventListener(name, function (evt) {
      var rect = evt.target.closest && evt.target.closest("rect[data-day], rect[data-tip]");
      if (rect) showTip(rect);
    });
  });

  // Show the most recent weeks first on narrow screens.
  function scrollHeatmaps(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(".heatmap-scroll"), function (box) {
      box.scrollLeft = box.scrollWidth;
    });
  }

  // Keep one toast at a time and let it go after a while; hovering keeps it.
  function manageToasts() {
    var toasts = document.querySelectorAll("#flashes .toast");
    Array.prototype.forEach.call(toasts, function (toast, index) {
      if (index > 0) { toast.remove(); return; }
      if (toast.dataset.timer) return;
      toast.dataset.timer = "1";
      var timer = setTimeout(function () { toast.remove(); }, 12000);
      toast.addEventListener("mouseenter", function () { clearTimeout(timer); });
      toast.addEventListener("focusin", function () { clearTimeout(timer); });
    });
  }

  // Tell screen readers what a filter change did: the results region itself is replaced.
  function announce() {
    var box = document.getElementById("history-announce");
    var count = document.querySelector("#history-table .table-count");
    if (box && count) box.textContent = "Showing " + count.textContent.trim();
  }

  document.addEventListener("htmx:afterSettle", function (evt) {
    scrollHeatmaps(evt.detail.elt);
    manageToasts();
    if (evt.detail.elt && (evt.detail.elt.id === "history-results" || evt.detail.elt.id === "history-table")) announce();
  });
  document.addEventListener("htmx:oobAfterSwap", manageToasts);
  document.addEventListener("DOMContentLoaded", function () { scrollHeatmaps(document); });
})();
