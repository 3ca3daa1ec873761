// Live preview: reload the preview frame when the server says a watched file was saved.
(function () {
  var frame = document.getElementById("preview");
  var status = document.getElementById("preview-status");
  if (!frame) return;
  var events = new EventSource("/preview/events");
  events.addEventListener("changed", function (e) {
    status.textContent = "Saved: " + e.data + ". Re-rendering…";
    frame.src = frame.src.split("#")[0].replace(/&t=\d+$/, "") + "&t=" + Date.now();
  });
  frame.addEventListener("load", function () {
    if (status.textContent.indexOf("Re-rendering") >= 0) status.textContent = "Re-rendered at " + new Date().toLocaleTimeString();
  });
})();
