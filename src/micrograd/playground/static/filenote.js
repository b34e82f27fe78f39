// micrograd playground, exported page opened from disk (file://): browsers load no module script
// and start no module worker from a file, so the page cannot run. This classic script (the one
// script a browser still runs there) says so mid-page, in the graph panel and in the offline bar.
"use strict";

if (location.protocol === "file:") {
  document.addEventListener("DOMContentLoaded", () => {
    const reason = "This page must come from a web server, not a file: run `python -m " +
      "http.server --bind 127.0.0.1` in its folder and open http://127.0.0.1:8000/";
    const hint = document.querySelector("#graph-view > p.hint");
    if (hint) hint.textContent = reason;
    document.getElementById("starting").textContent = reason;
    document.getElementById("offline-why").textContent = reason;
    document.body.classList.add("offline");
  });
}
