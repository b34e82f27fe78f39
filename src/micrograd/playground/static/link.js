// micrograd playground: the shareable link. Every setting the server echoes in `state.config` is
// written to location.hash whenever it changes; a page opened on such a link (or a reconnect)
// checks each field the way protocol.py does and sends the good ones as one `configure` as soon as
// the new session is open, before it is drawn (first.js holds its default state back). A bad or
// unknown field is named in one toast line and left at its default.
// The fields, their order aside, and their checks come from the settings schema (settings.json).
// The page's language rides along as `lang=zh` (i18n.js); it is not a setting.
//   createLink({ model, send, toast, schema }) -> { fields(), onOnline() -> fields, onState(st) }
import { $ } from "./format.js";
import { language, say, words } from "./i18n.js";

// the order fields appear in the link; a setting the schema adds later comes after these
const ORDER = ["problem", "dataset", "features", "hidden", "activation", "lr", "weight_decay",
  "regularization", "reg_rate", "batch_size", "speed", "n", "noise", "train_frac", "seed",
  "show_test", "discretize"];

export function linkCodec(schema) {
  // the link's reader and writer for the settings of `schema` (settings.json): each field's
  // text is checked against its setting's type, range or choices
  const names = Object.keys(schema.settings);
  const order = [...ORDER.filter((n) => names.includes(n)), ...names.filter((n) => !ORDER.includes(n))];
  const parsers = Object.fromEntries(order.map((n) => [n, parser(schema.settings[n])]));
  const problemOf = Object.fromEntries(schema.datasets.map((d) => [d.name, d.problem]));
  return {
    parsers,
    text: (config) => linkText(parsers, config),
    read: (hash) => readLink(parsers, hash, problemOf, schema.problem_default),
  };
}

function parser(s) {
  // a function that parses a field's text or throws an Error naming the allowed values
  if (s.type === "choice") return aliased(oneOf(s.choices), s.aliases || {});
  if (s.type === "float") return numIn(s.min, s.max, s.min_open);
  if (s.type === "int") return intIn(s.min, s.max);
  if (s.type === "bool") return flag;
  if (s.type === "list" && s.items === "int") return sizesIn(s);
  if (s.type === "list") return namesFrom(s.choices);
  throw new Error(`a setting of unknown type ${s.type}`);
}

function refused(text, params = {}) {
  // an Error whose sentence (`words`) the page says in its language: what the field must be
  const english = text.replace(/\{(\w+)\}/g, (all, k) => String(params[k]));
  return Object.assign(new Error(english), { words: words(text, params) });
}

function namesFrom(choices) {
  // distinct names, returned in the choices' (canonical) order
  return (t) => {
    const v = t.split(",");
    if (!t || !v.every((f) => choices.includes(f)) || new Set(v).size !== v.length) {
      throw refused("a list of distinct names from {names}", { names: choices.join(", ") });
    }
    return choices.filter((f) => v.includes(f));
  };
}

function sizesIn(s) {
  // the hidden layers' sizes: min_length to max_length integers in min..max
  const size = intIn(s.min, s.max);
  return (t) => {
    const v = t === "" ? [] : t.split(",").map(size);
    if (v.length < s.min_length || v.length > s.max_length) {
      throw refused("{a} to {b} layer sizes of {lo}..{hi}",
        { a: s.min_length, b: s.max_length, lo: s.min, hi: s.max });
    }
    return v;
  };
}

function aliased(parse, aliases) {
  // an old name (a link made before a rename) reads as the value it names now
  return (t) => parse(Object.hasOwn(aliases, t) ? aliases[t] : t);
}

function oneOf(options) {
  return (t) => {
    if (!options.includes(t)) throw refused("one of {names}", { names: options.join(", ") });
    return t;
  };
}

function numIn(lo, hi, loOpen = false) {
  return (t) => {
    const v = Number(t);
    if (t.trim() === "" || !Number.isFinite(v) || v > hi || v < lo || (loOpen && v === lo)) {
      throw refused("a number in {range}", { range: `${loOpen ? "(" : "["}${lo}, ${hi}]` });
    }
    return v;
  };
}

function intIn(lo, hi) {
  return (t) => {
    const v = Number(t);
    if (!/^\d+$/.test(t) || v < lo || v > hi) throw refused("an integer in {lo}..{hi}", { lo, hi });
    return v;
  };
}

function flag(t) {
  if (t === "1" || t === "true") return true;
  if (t === "0" || t === "false") return false;
  throw refused("1 or 0");
}

function linkText(parsers, config) {
  // the hash for a config: fields in the link's order, lists comma-separated, flags 1/0
  return Object.keys(parsers).filter((k) => k in config).map((k) => {
    const v = config[k];
    const t = Array.isArray(v) ? v.join(",") : typeof v === "boolean" ? (v ? "1" : "0") : String(v);
    return `${k}=${encodeURIComponent(t).replace(/%2C/g, ",")}`;
  }).join("&");
}

function readLink(parsers, hash, problemOf, problemDefault) {
  // {fields, problems}: the valid fields of a hash, and one sentence (`words`) per bad or
  // unknown one
  const fields = {}, problems = [];
  const text = hash.replace(/^#/, "");
  if (!text) return { fields, problems };
  for (const part of text.split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const rawKey = eq < 0 ? part : part.slice(0, eq), rawValue = eq < 0 ? "" : part.slice(eq + 1);
    // a broken %-escape spoils its own field only: named as written, the others still apply
    const key = decoded(rawKey), value = decoded(rawValue);
    if (key === null) { problems.push(words("setting \"{key}\" ignored (a broken %-escape)", { key: rawKey })); continue; }
    if (key === "lang") continue; // the page's language (i18n.js), not a setting
    if (!Object.hasOwn(parsers, key)) { problems.push(words("unknown setting \"{key}\" ignored", { key })); continue; }
    if (value === null) {
      problems.push(words("{key}={value} is not readable (a broken %-escape), using the default",
        { key, value: rawValue }));
      continue;
    }
    try { fields[key] = parsers[key](value); } catch (e) {
      problems.push(words("{key}={value} is not {what}, using the default",
        { key, value, what: e.words || e.message }));
    }
  }
  return { fields, problems: problems.concat(matchProblem(fields, problemOf, problemDefault)) };
}

function decoded(text) {
  // the text of a %-encoded link part, or null when an escape is broken (`%ZZ`, a lone `%`)
  try { return decodeURIComponent(text); } catch { return null; }
}

function matchProblem(fields, problemOf, problemDefault) {
  // a dataset of the other problem kind is left out; the problem follows a lone dataset
  const kind = (d) => problemOf[d];
  if (fields.dataset && !fields.problem) fields.problem = kind(fields.dataset);
  if (fields.dataset && kind(fields.dataset) !== fields.problem) {
    const d = fields.dataset;
    fields.dataset = problemDefault[fields.problem];
    return [words("dataset={d} is for {kind}, using {used}",
      { d, kind: words(kind(d)), used: fields.dataset })];
  }
  return [];
}

export function createLink({ model, send, toast, schema }) {
  const codec = linkCodec(schema);
  const defaults = Object.fromEntries(Object.entries(schema.settings).map(([k, s]) => [k, s.default]));

  function wanted(config) {
    // {fields, problems}: what the link sets, for a session whose settings are `config`
    const { fields, problems } = codec.read(location.hash);
    if (fields.problem && fields.problem !== config.problem && !fields.dataset) {
      fields.dataset = schema.problem_default[fields.problem];
    }
    return { fields, problems };
  }

  function fields() {
    // the link's settings for a new session (at the defaults), or null when it sets nothing
    // new; all of them when one differs (a dataset's own noise must not replace the link's)
    const { fields: f } = wanted(defaults);
    const differs = Object.entries(f).some(([k, v]) => JSON.stringify(v) !== JSON.stringify(defaults[k]));
    return differs ? f : null;
  }

  function onOnline() {
    // a new session: the link's settings go out at once; returns them (null: none)
    const { problems } = wanted(defaults);
    if (problems.length) toast(words("link: {problems}", { problems }));
    const f = fields();
    if (f) send({ type: "configure", ...f });
    return f;
  }

  function restore(config) {
    // a link pasted into the address bar: send what it changes
    const { fields: f, problems } = wanted(config);
    if (problems.length) toast(words("link: {problems}", { problems }));
    const changed = Object.fromEntries(Object.entries(f)
      .filter(([k, v]) => k in config && JSON.stringify(v) !== JSON.stringify(config[k])));
    if (Object.keys(changed).length) send({ type: "configure", ...changed });
  }

  function onState(st) {
    // keep the hash in step with the state
    const lang = language() === "en" ? "" : `&lang=${language()}`; // kept for whoever opens it
    const hash = `#${codec.text(st.config)}${lang}`;
    // resolved against the page's own address, not its <base> (a notebook widget's page has
    // one elsewhere, and history refuses another origin)
    if (location.hash !== hash) history.replaceState(null, "", new URL(hash, location.href).href);
  }

  $("copy-link").onclick = copyLink;
  window.addEventListener("hashchange", () => { // a link pasted into this tab's address bar
    if (model.state) restore(model.state.config);
  });
  return { onState, onOnline, fields };
}

function copyLink() {
  const done = () => {
    const b = $("copy-link");
    say(b, "link copied");
    setTimeout(() => say(b, "copy link"), 1500);
  };
  const fallback = () => {
    const t = document.createElement("textarea");
    t.value = location.href;
    document.body.appendChild(t);
    t.select();
    document.execCommand("copy");
    t.remove();
    done();
  };
  if (navigator.clipboard) navigator.clipboard.writeText(location.href).then(done, fallback);
  else fallback();
}
