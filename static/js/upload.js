// Upload page: drag and drop onto the file box, a size check before sending, and a clean form after upload.
(function () {
  function sizeText(bytes) {
    if (bytes >= 1024 * 1024) return (bytes / (1024 * 1024)).toFixed(1) + " MB";
    if (bytes >= 1024) return Math.round(bytes / 1024) + " kB";
    return bytes + " bytes";
  }

  function setup() {
    var form = document.getElementById("upload-form");
    var input = document.getElementById("csv-file");
    var zone = document.getElementById("dropzone");
    var chosen = document.getElementById("chosen-file");
    if (!form || !input || !zone) return;
    // Choosing a file uploads it, so the button (there for pages without JavaScript) would only send an
    // empty form a second time; the box stands in for the browser's own file control.
    form.classList.add("js-upload");
    var maxMb = form.getAttribute("data-max-mb");

    function tooLarge(file) {
      var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
      return maxBytes > 0 && file && file.size > maxBytes;
    }

    function describe() {
      var file = input.files && input.files[0];
      zone.classList.remove("is-invalid");
      if (!file) {
        chosen.textContent = "No file chosen yet";
        return false;
      }
      if (tooLarge(file)) {
        zone.classList.add("is-invalid");
        chosen.textContent = file.name + " is " + sizeText(file.size) + ": uploads can be at most " + maxMb + " MB. Split the file and try again.";
        return false;
      }
      chosen.textContent = file.name + " (" + sizeText(file.size) + ")";
      return true;
    }

    function refuseTooLarge() {
      if (window.ActivityHub) window.ActivityHub.showFlash(chosen.textContent, "error");
    }

    input.addEventListener("change", function () {
      if (describe()) form.requestSubmit();
      else if (tooLarge(input.files && input.files[0])) refuseTooLarge();
    });

    // A too-large file never leaves the browser: stop the submit before htmx sends it.
    document.addEventListener("submit", function (evt) {
      if (evt.target !== form) return;
      var file = input.files && input.files[0];
      if (tooLarge(file)) {
        evt.preventDefault();
        evt.stopPropagation();
        describe();
        refuseTooLarge();
      }
    }, true);

    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (evt) {
        evt.preventDefault();
        zone.classList.add("is-dragover");
      });
    });
    ["dragleave", "dragend"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("is-dragover"); });
    });
    zone.addEventListener("drop", function (evt) {
      evt.preventDefault();
      zone.classList.remove("is-dragover");
      var files = evt.dataTransfer && evt.dataTransfer.files;
      if (!files || !files.length) return;
      input.files = files;
      if (describe()) form.requestSubmit();
      else if (tooLarge(files[0])) refuseTooLarge();
    });
    // A file dropped next to the box should not make the browser leave the page.
    window.addEventListener("dragover", function (evt) { evt.preventDefault(); });
    window.addEventListener("drop", function (evt) { evt.preventDefault(); });

    // After each upload, empty the input so the same file can be chosen again.
    form.addEventListener("htmx:afterRequest", function (evt) {
      var file = input.files && input.files[0];
      if (file && evt.detail.successful) chosen.textContent = "Uploaded " + file.name + ". Choose another file to upload more.";
      form.reset();
      zone.classList.remove("is-invalid");
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
