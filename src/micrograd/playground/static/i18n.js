// micrograd playground: the page's language. The page is written in English; strings.json
// (micrograd.playground.strings) maps its texts to other languages, the English text being the
// key. The language comes from the link (`lang=zh`), else the page's own
// <meta name="micrograd-lang"> (a notebook widget's `lang=`), else the one chosen here before
// (localStorage), else the browser's; a text a language lacks stays English.
// Every text node and title/aria-label of index.html is translated, and kept translated as the
// page changes (a MutationObserver). A module writes its words with `say(el, text, params)` or
// `sayTitle`: the element keeps the English template and values (data-said-*), so a change of
// language says it again; `t()` is for a text drawn elsewhere (a canvas: `onLanguage` redraws
// it). A value may be a sentence itself, {text, params} (Python's `micrograd.words`).
// A text that comes without its sentence (a picture's words in the graph's and the walk's SVG,
// which Python writes in English; a socket's close reason) is said by `sayFound`/`sayPictures`
// when it reads one of the catalogue's `found` templates ("layer 1, neuron 0"); only those, so a
// value's name that is also a word of the page stays as it is.
//   loadStrings() -> catalogue   chosenLanguage(catalogue) -> code   useLanguage(catalogue, code)
//   language() -> code           t(text, { name: value })           words(text, params)
//   say(el, text, params)        sayTitle(el, text, params)          sayFound(el, text)
//   sayPictures(root)            onLanguage(fn)
const KEY = "micrograd.playground.lang";
const SKIP = "code, output, script, style, svg, canvas, [data-no-i18n]";
const SAID = `${SKIP}, [data-said-text]`; // said by a module: its text is its own
const ATTRS = ["title", "aria-label"];
let table = {}, current = "en", observer = null, found = [], title = null;
const listeners = [];
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
  const given = document.querySelector('meta[name="micrograd-lang"]')?.content;
  if (known(given)) return given;
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
  return out.replace(/\{(\w+)\}/g, (all, k) => (k in params ? valueText(params[k]) : all));
}

// a sentence to pass as a value: t("showing {what}", { what: words("layer {i}", { i }) })
export const words = (text, params = {}) => ({ text, params });

function valueText(v) {
  // a value: a sentence ({text, params}), a list of them ("; " between), or as it reads
  if (Array.isArray(v)) return v.map(valueText).join(t("; "));
  return v !== null && typeof v === "object" ? t(v.text, v.params) : String(v);
}

export function say(el, text, params = {}) {
  el.dataset.saidText = text;
  el.dataset.saidParams = JSON.stringify(params);
  el.textContent = t(text, params);
}

export function sayTitle(el, text, params = {}) {
  el.dataset.saidTitle = text;
  el.dataset.saidTitleParams = JSON.stringify(params);
  el.title = t(text, params);
}

export function sayFound(el, text) {
  const sentence = sentenceOf(text);
  if (sentence) say(el, sentence.text, sentence.params);
  else say(el, "{text}", { text });
}

export function sayPictures(root) {
  if (current === "en") return; // the pictures are drawn in English
  for (const el of root.querySelectorAll("svg text")) {
    if (el.dataset.saidText !== undefined) continue;
    const sentence = sentenceOf(el.textContent);
    if (sentence) say(el, sentence.text, sentence.params);
  }
}

function sentenceOf(text) {
  // the `found` template that reads `text` in English (the most specific first), its values
  // read the same way
  for (const [pattern, key, names] of found) {
    const m = pattern.exec(text);
    if (m) return words(key, Object.fromEntries(names.map((n, i) => [n, sentenceOf(m[i + 1]) || m[i + 1]])));
  }
  return null;
}

function pattern(key) {
  // [a RegExp matching the key's text with any values, the key, its values' names]
  const literal = (part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return [new RegExp(`^${key.split(/\{\w+\}/).map(literal).join("(.+?)")}$`), key,
    [...key.matchAll(/\{(\w+)\}/g)].map((m) => m[1])];
}

export function onLanguage(fn) {
  listeners.push(fn);
}

function sayAgain() {
  for (const el of document.querySelectorAll("[data-said-text]")) {
    el.textContent = t(el.dataset.saidText, JSON.parse(el.dataset.saidParams));
  }
  for (const el of document.querySelectorAll("[data-said-title]")) {
    el.title = t(el.dataset.saidTitle, JSON.parse(el.dataset.saidTitleParams));
  }
  listeners.forEach((fn) => fn(current));
}

export function useLanguage(catalogue, code) {
  current = Object.hasOwn(catalogue.languages, code) ? code : "en";
  table = catalogue[current] || {};
  found = (catalogue.found || []).map(pattern);
  title ??= document.title;
  document.title = t(title);
  document.documentElement.lang = current === "zh" ? "zh-CN" : current;
  try { localStorage.setItem(KEY, current); } catch { /* this page only */ }
  translate(document.body);
  sayPictures(document);
  sayAgain();
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
  if (node.parentElement && node.parentElement.closest(SAID)) return;
  if (written.get(node) !== node.nodeValue) english.set(node, node.nodeValue);
  const en = english.get(node);
  const key = en.replace(/\s+/g, " ").trim();
  if (!key) return;
  const out = Object.hasOwn(table, key) ? spaced(en, table[key]) : en;
  written.set(node, out);
  if (node.nodeValue !== out) node.nodeValue = out;
}

function spaced(en, text) {
  // the translation in the English text's place, keeping the spaces around it, but for those
  // beside a full-width mark (which has its own room): "的 计算图 ）。" reads "的 计算图）。"
  const [, before, , after] = /^(\s*)([\s\S]*?)(\s*)$/.exec(en);
  const wide = /[\u3000-\u303f\uff00-\uffef]/;
  return (wide.test(text[0]) ? "" : before) + text + (wide.test(text.at(-1)) ? "" : after);
}

function translateAttr(el, name) {
  const value = el.getAttribute(name);
  if (value === null || (name === "title" && el.dataset.saidTitle !== undefined)) return;
  const store = `i18n${name === "title" ? "Title" : "Aria"}`;
  if (el.dataset[`${store}Written`] !== value) el.dataset[store] = value; // new English
  const en = el.dataset[store];
  const out = Object.hasOwn(table, en) ? table[en] : en;
  el.dataset[`${store}Written`] = out;
  if (value !== out) el.setAttribute(name, out);
}
