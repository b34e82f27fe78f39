// micrograd playground: the first picture, before the model answers. The model (the server's
// session, or the exported page's Python, which loads for seconds) sends its state and frame only
// once it runs; static/first.json holds those very messages for a new session, computed by this
// package ahead (snapshot.py), so the page draws the real defaults at once.
// A page opened on a link that sets something must not show the defaults first: it sends the
// link's settings to the new session and holds the session's messages until a state carries them.
//   loadFirst() -> [state, frame] | null
//   holdUntil(fields) -> { pass(msg) -> [msg to apply now], done }

export async function loadFirst() {
  // null when the snapshot cannot be had: the page then waits for the model, as before
  try {
    const reply = await fetch(new URL("static/first.json", document.baseURI));
    return reply.ok ? (await reply.json()).messages : null;
  } catch {
    return null;
  }
}

const carries = (config, fields) => Object.entries(fields)
  .every(([k, v]) => JSON.stringify(config[k]) === JSON.stringify(v));

export function holdUntil(fields) {
  // the state and frames before the link's settings are kept back (the last state and frame,
  // and every other message in order); the state that carries them is drawn first. The session
  // answers in order (its first state, then the answer to the link's `configure`), so its second
  // state is drawn whatever it carries; a refused link (an error) lets through what was held.
  let held = [], states = 0;
  const gate = {
    done: false,
    pass(msg) {
      if (gate.done) return [msg];
      if (msg.type === "state" && (++states > 1 || carries(msg.config, fields))) {
        gate.done = true;
        return [msg, ...held.filter((m) => m.type !== "state" && m.type !== "frame")];
      }
      if (msg.type === "error") {
        gate.done = true;
        return [...held, msg];
      }
      if (msg.type === "state") held = held.filter((m) => m.type !== "state" && m.type !== "frame");
      if (msg.type === "frame") held = held.filter((m) => m.type !== "frame");
      held.push(msg);
      return [];
    },
  };
  return gate;
}
