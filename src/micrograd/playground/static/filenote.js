// micrograd playground, exported page opened from disk (file://): browsers load no module script
// and start no module worker from a file, so the page cannot run. This classic script (the one
// script a browser still runs there) says so mid-page, in the graph panel and in the offline bar.
"use strict";

if (location.protocol === "file:") {
  document.addEventListener("DOMContentLoaded", () => {
    // plain text (no markup), and no Reconnect button: reconnecting cannot start a worker here
    const reason = "This page must come from a web server, not a file. In its folder run: " +
      "python3 -m http.server --bind 127.0.0.1 8000, then open http://127.0.0.1:8000/";
    const hint = document.querySelector("#graph-view > p.hint");
    if (hint) hint.textContent = reason;
    document.getElementById("starting").textContent = reason;
    document.getElementById("offline-why").textContent = reason;
    document.getElementById("reconnect").hidden = true;
    document.body.classList.add("offline");
  });
}
