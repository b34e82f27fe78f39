// micrograd playground: the page's language. The page is written in English; strings.json
// (micrograd.playground.strings) maps its texts to other languages, the English text being the
// key. The language comes from the link (`lang=zh`), else the one chosen here before
// (localStorage), else the browser's; a text a language lacks stays English.
// Every text node and title/aria-label of the page is translated, and kept translated as the
// page's modules write new ones (a MutationObserver); `t(text, params)` is for texts with values.
//   loadStrings() -> catalogue   useLanguage(catalogue, code)   language() -> code
//   t(text, { name: value })     chosenLanguage(catalogue) -> code
const KEY = "micrograd.playground.lang";
const SKIP = "code, select, option, output, script, style, svg, canvas, [data-no-i18n]";
const ATTRS = ["title", "aria-label"];
let table = {}, current = "en", observer = null;
const english = new WeakMap(); // a text node -> its English text
const written = new WeakMap(); // a text node -> the text this module wrote into it

export async function loadStrings() {
  try {
    const reply = await fetch(new URL("static/strings.json", document.baseURI));
    return reply.ok ? await reply.json() : { languages: { en: "English" } };
  } catch {
    return { languages: { en: "English" } };
  }
}

export function chosenLanguage(catalogue, hash = location.hash) {
  const known = (code) => code && Object.hasOwn(catalogue.languages, code);
  const linked = /(?:^#|&)lang=([a-z]+)/.exec(hash);
  if (linked && known(linked[1])) return linked[1];
  let kept = null;
  try { kept = localStorage.getItem(KEY); } catch { /* storage blocked */ }
  if (known(kept)) return kept;
  for (const tag of navigator.languages || [navigator.language]) {
    const code = String(tag).toLowerCase().split("-")[0];
    if (known(code)) return code;
  }
  return "en";
}

export const language = () => current;

export function t(text, params = {}) {
  const out = Object.hasOwn(table, text) ? table[text] : text;
  return out.replace(/\{(\w+)\}/g, (all, k) => (k in params ? String(params[k]) : all));
}

export function useLanguage(catalogue, code) {
  current = Object.hasOwn(catalogue.languages, code) ? code : "en";
  table = catalogue[current] || {};
  document.documentElement.lang = current === "zh" ? "zh-CN" : current;
  try { localStorage.setItem(KEY, current); } catch { /* this page only */ }
  translate(document.body);
  if (!observer) {
    observer = new MutationObserver(onMutations);
    observer.observe(document.body, { subtree: true, childList: true, characterData: true,
      attributes: true, attributeFilter: ATTRS });
  }
}

function onMutations(records) {
  for (const r of records) {
    if (r.type === "childList") r.addedNodes.forEach((n) => translate(n));
    else if (r.type === "characterData") translateText(r.target);
    else translateAttr(r.target, r.attributeName);
  }
}

function translate(root) {
  if (root.nodeType === Node.TEXT_NODE) { translateText(root); return; }
  if (root.nodeType !== Node.ELEMENT_NODE || root.closest(SKIP)) return;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT, {
    acceptNode: (n) => (n.nodeType === Node.ELEMENT_NODE && n.matches(SKIP)
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
  });
  for (let n = walker.currentNode; n; n = walker.nextNode()) {
    if (n.nodeType === Node.TEXT_NODE) translateText(n);
    else ATTRS.forEach((a) => translateAttr(n, a));
  }
}

function translateText(node) {
  // a text the page wrote (not this module) is its new English
  if (node.parentElement && node.parentElement.closest(SKIP)) return;
  if (written.get(node) !== node.nodeValue) english.set(node, node.nodeValue);
  const en = english.get(node);
  const key = en.replace(/\s+/g, " ").trim();
  if (!key) return;
  const out = Object.hasOwn(table, key) ? en.replace(en.trim(), () => table[key]) : en;
  written.set(node, out);
  if (node.nodeValue !== out) node.nodeValue = out;
}

function translateAttr(el, name) {
  const value = el.getAttribute(name);
  if (value === null) return;
  const store = `i18n${name === "title" ? "Title" : "Aria"}`;
  if (el.dataset[`${store}Written`] !== value) el.dataset[store] = value; // new English
  const en = el.dataset[store];
  const out = Object.hasOwn(table, en) ? table[en] : en;
  el.dataset[`${store}Written`] = out;
  if (value !== out) el.setAttribute(name, out);
}
