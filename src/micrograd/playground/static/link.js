// micrograd playground: the shareable link. Every setting the server echoes in `state.config` is
// written to location.hash whenever it changes; a page opened on such a link (or a reconnect)
// checks each field the way protocol.py does and sends the good ones as one `configure`. A bad or
// unknown field is named in one toast line and left at its default.
//   createLink({ model, send, toast }) -> { onOnline(), onState(st) }
import { $ } from "./format.js";
import { FEATURE_NAMES } from "./features.js";

const CLASS_DATASETS = ["seed", "yinyang", "moons", "circles", "spiral", "xor"];
const REG_DATASETS = ["plane", "gauss"];
export const PROBLEM_DEFAULT = { classification: "seed", regression: "plane" };
// the order fields appear in the link; each parses its text or throws the allowed values
export const LINK = {
  problem: oneOf(["classification", "regression"]),
  dataset: oneOf([...CLASS_DATASETS, ...REG_DATASETS]),
  features: (t) => {
    const v = t.split(",");
    if (!t || !v.every((f) => FEATURE_NAMES.includes(f)) || new Set(v).size !== v.length) {
      throw new Error(`a list of distinct names from ${FEATURE_NAMES.join(", ")}`);
    }
    return FEATURE_NAMES.filter((f) => v.includes(f));
  },
  hidden: (t) => {
    const v = t === "" ? [] : t.split(",").map(intIn(1, 16));
    if (v.length > 4) throw new Error("0 to 4 layer sizes of 1..16");
    return v;
  },
  activation: oneOf(["tanh", "relu", "sigmoid", "linear"]),
  lr: numIn(0, 10, true),
  weight_decay: numIn(0, 1),
  regularization: oneOf(["none", "l1", "l2"]),
  reg_rate: numIn(0, 10),
  batch_size: intIn(0, 2000),
  speed: intIn(0, 1000),
  n: intIn(10, 1000),
  noise: numIn(0, 2),
  train_frac: numIn(0.1, 0.9),
  seed: intIn(1, 2 ** 31 - 1),
  show_test: flag,
  discretize: flag,
};

function oneOf(options) {
  return (t) => {
    if (!options.includes(t)) throw new Error(`one of ${options.join(", ")}`);
    return t;
  };
}

function numIn(lo, hi, loOpen = false) {
  return (t) => {
    const v = Number(t);
    if (t.trim() === "" || !Number.isFinite(v) || v > hi || v < lo || (loOpen && v === lo)) {
      throw new Error(`a number in ${loOpen ? "(" : "["}${lo}, ${hi}]`);
    }
    return v;
  };
}

function intIn(lo, hi) {
  return (t) => {
    const v = Number(t);
    if (!/^\d+$/.test(t) || v < lo || v > hi) throw new Error(`an integer in ${lo}..${hi}`);
    return v;
  };
}

function flag(t) {
  if (t === "1" || t === "true") return true;
  if (t === "0" || t === "false") return false;
  throw new Error("1 or 0");
}

export function linkText(config) {
  // the hash for a config: fields in LINK's order, lists comma-separated, flags 1/0
  return Object.keys(LINK).filter((k) => k in config).map((k) => {
    const v = config[k];
    const t = Array.isArray(v) ? v.join(",") : typeof v === "boolean" ? (v ? "1" : "0") : String(v);
    return `${k}=${encodeURIComponent(t).replace(/%2C/g, ",")}`;
  }).join("&");
}

export function readLink(hash) {
  // {fields, problems}: the valid fields of a hash, and one phrase per bad or unknown one
  const fields = {}, problems = [];
  const text = hash.replace(/^#/, "");
  if (!text) return { fields, problems };
  for (const part of text.split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const rawKey = eq < 0 ? part : part.slice(0, eq), rawValue = eq < 0 ? "" : part.slice(eq + 1);
    // a broken %-escape spoils its own field only: named as written, the others still apply
    const key = decoded(rawKey), value = decoded(rawValue);
    if (key === null) { problems.push(`setting "${rawKey}" ignored (a broken %-escape)`); continue; }
    if (!Object.hasOwn(LINK, key)) { problems.push(`unknown setting "${key}" ignored`); continue; }
    if (value === null) {
      problems.push(`${key}=${rawValue} is not readable (a broken %-escape), using the default`);
      continue;
    }
    try { fields[key] = LINK[key](value); } catch (e) {
      problems.push(`${key}=${value} is not ${e.message}, using the default`);
    }
  }
  return { fields, problems: problems.concat(matchProblem(fields)) };
}

function decoded(text) {
  // the text of a %-encoded link part, or null when an escape is broken (`%ZZ`, a lone `%`)
  try { return decodeURIComponent(text); } catch { return null; }
}

function matchProblem(fields) {
  // a dataset of the other problem kind is left out; the problem follows a lone dataset
  const kind = (d) => (REG_DATASETS.includes(d) ? "regression" : "classification");
  if (fields.dataset && !fields.problem) fields.problem = kind(fields.dataset);
  if (fields.dataset && kind(fields.dataset) !== fields.problem) {
    const d = fields.dataset;
    fields.dataset = PROBLEM_DEFAULT[fields.problem];
    return [`dataset=${d} is for ${kind(d)}, using ${fields.dataset}`];
  }
  return [];
}

export function createLink({ model, send, toast }) {
  let pending = false; // a new connection: the link's settings are sent to it at its first state

  function restore(config) {
    // send what the link sets and the server does not have yet; true when a configure went out
    // (its state will follow)
    const { fields, problems } = readLink(location.hash);
    if (problems.length) toast(`link: ${problems.join("; ")}`);
    if (fields.problem && fields.problem !== config.problem && !fields.dataset) {
      fields.dataset = PROBLEM_DEFAULT[fields.problem];
    }
    const changed = Object.fromEntries(Object.entries(fields)
      .filter(([k, v]) => k in config && JSON.stringify(v) !== JSON.stringify(config[k])));
    if (!Object.keys(changed).length) return false;
    send({ type: "configure", ...changed });
    return true;
  }

  function onState(st) {
    // restore once per connection, then keep the hash in step with the state
    if (pending) {
      pending = false;
      if (restore(st.config)) return;
    }
    const hash = `#${linkText(st.config)}`;
    if (location.hash !== hash) history.replaceState(null, "", hash);
  }

  $("copy-link").onclick = copyLink;
  window.addEventListener("hashchange", () => { // a link pasted into this tab's address bar
    if (model.state) restore(model.state.config);
  });
  return { onState, onOnline() { pending = true; } };
}

function copyLink() {
  const done = () => {
    const b = $("copy-link");
    b.textContent = "link copied";
    setTimeout(() => { b.textContent = "copy link"; }, 1500);
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
