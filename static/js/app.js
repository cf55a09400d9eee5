// Activity Hub client glue: show htmx request failures in words (htmx 2 does not swap 4xx/5xx).
(function () {
  function showFlash(text, kind) {
    var box = document.getElementById("flashes");
    if (!box) return;
    var div = document.createElement("div");
    div.className = "flash flash-" + (kind || "error");
    div.setAttribute("role", "alert");
    div.textContent = text;
    box.appendChild(div);
    setTimeout(function () { div.remove(); }, 10000);
  }
  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    var text = "Something went wrong (" + xhr.status + "). Please try again.";
    if (xhr.responseText && xhr.getResponseHeader("Content-Type") && xhr.getResponseHeader("Content-Type").indexOf("text/html") === 0) {
      var tmp = document.createElement("div");
      tmp.innerHTML = xhr.responseText;
      var msg = tmp.querySelector(".flash, [role=alert]");
      if (msg) text = msg.textContent.trim();
    }
    showFlash(text, "error");
  });
  document.addEventListener("htmx:sendError", function () {
    showFlash("Could not reach Activity Hub. Check your connection and try again.", "error");
  });
  // Forms that ask before doing something destructive: <form data-confirm="...">.
  document.addEventListener("submit", function (evt) {
    var msg = evt.target.getAttribute && evt.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) evt.preventDefault();
  }, true);
  window.ActivityHub = { showFlash: showFlash };
})();
