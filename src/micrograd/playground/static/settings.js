// micrograd playground: the settings schema's page view (settings.json, made by
// micrograd.settings): every setting's type, default, range or choices and help, and the tables of
// datasets, activations and features. The controls and the share link read it; the page holds no
// copy of a range. Served at /static/settings.json, and written beside the modules by an export.

export async function loadSettings() {
  const reply = await fetch(new URL("static/settings.json", document.baseURI));
  if (!reply.ok) throw new Error(`settings.json: HTTP ${reply.status}`);
  return reply.json();
}
