// micrograd playground: the page's status: the toast line (the server's errors, the link's
// problems), online or offline, running or paused. Each shows as a class on <body> or one element.
import { $ } from "./format.js";
import { say, sayFound } from "./i18n.js";

const TOAST_MS = 6000;

export function createStatus() {
  let timer = null;
  let until = null; // a test of a state in which the toast no longer holds: hide it then

  function toast(text, untilState = null) {
    // text: as it reads, or a sentence ({text, params}) said in the page's language
    const el = $("toast");
    if (typeof text === "string") say(el, "{text}", { text });
    else say(el, text.text, text.params);
    el.classList.add("show");
    until = untilState;
    clearTimeout(timer);
    timer = setTimeout(hideToast, TOAST_MS);
  }

  function hideToast() {
    clearTimeout(timer);
    until = null;
    $("toast").classList.remove("show");
  }

  function onState(st) {
    if (until && until(st)) hideToast();
  }

  function showRunning(running) {
    document.body.classList.toggle("running", running);
  }

  function showOnline(online) {
    // offline: nothing trains, so the run buttons show play, disabled, with an "offline" note
    document.body.classList.toggle("offline", !online);
    if (!online) showRunning(false);
    for (const id of ["play", "step", "reset"]) $(id).disabled = !online;
  }

  function showClosed(code, reason) {
    // the offline banner says why: the server's reason (e.g. it is full), else the page's text
    const own = Boolean(reason) && code !== 1000;
    $("offline-page").hidden = own;
    $("offline-reason").hidden = !own;
    if (typeof reason === "string") sayFound($("offline-reason"), reason); // the server's
    else if (reason) say($("offline-reason"), reason.text, reason.params);
    showOnline(false);
  }

  return {
    toast, hideToast, onState, showRunning, showOnline, showClosed,
    keepToast() { clearTimeout(timer); }, // the toast stays until its state comes (tests)
  };
}
