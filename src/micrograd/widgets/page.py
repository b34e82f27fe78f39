"""The playground's page made one text, for an iframe's `srcdoc` in a notebook cell.

A notebook's output cannot serve files, so everything the page loads comes inside it: the style
sheets inline; each module as a `data:` URL under the name `micrograd/NAME.js` of an import map
(its `./NAME.js` imports rewritten to that name, since a `data:` URL has no folder to be relative
to); and the JSON it fetches at start (`assets.made_files`) answered by a small `fetch` in front
of the browser's. A `<base>` of an address that is never contacted gives those fetches their
names. The page talks to its model through the widget transport (`transport.js`).
"""

from __future__ import annotations

import base64
import json
import re
from importlib import resources

from micrograd.playground.assets import made_files

BASE = "https://micrograd.invalid/"  # .invalid: a name no resolver answers (RFC 2606)
NOT_PAGE_MODULES = {"worker.js", "sw.js", "boot.js", "filenote.js"}  # the exported page's own
NOT_IN_A_CELL = "#copy-link"  # a link to a cell's page would open nothing: the button is hidden
_IMPORT = re.compile(r'((?:\bfrom|\bimport)\s*\(?\s*)"\./([\w-]+\.js)"')

_FETCH = """<script>
(() => { // the JSON the page reads as it starts, from this page (micrograd.widgets.page)
  const files = JSON.parse(document.getElementById("micrograd-files").textContent);
  const real = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const url = String(input && input.url ? input.url : input);
    const name = url.startsWith("BASE") ? url.slice(LENGTH) : null;
    if (name !== null && name in files) {
      const json = { headers: { "Content-Type": "application/json" } };
      return Promise.resolve(new Response(files[name], json));
    }
    return real(input, init);
  };
})();
</script>""".replace("BASE", BASE).replace("LENGTH", str(len(BASE)))


def _data_url(source: str) -> str:
    source = _IMPORT.sub(r'\1"micrograd/\2"', source)
    return "data:text/javascript;base64," + base64.b64encode(source.encode()).decode()


def widget_page(engine: str, lang: str | None = None) -> str:
    """index.html with its styles, modules and start-up JSON inside, on the widget transport;
    in `lang` (else the reader's browser's language)."""
    static = resources.files("micrograd.playground").joinpath("static")
    index = static.joinpath("index.html").read_text(encoding="utf-8")
    modules = {e.name: e.read_text(encoding="utf-8") for e in static.iterdir()
               if e.name.endswith(".js") and e.name not in NOT_PAGE_MODULES}
    imports = {f"micrograd/{name}": _data_url(src) for name, src in sorted(modules.items())}

    def inline_css(m: re.Match) -> str:
        return f"<style>\n{static.joinpath(m.group(1)).read_text(encoding='utf-8')}\n</style>"

    index = re.sub(r'<link rel="stylesheet" href="/static/([\w-]+\.css)">', inline_css, index)
    index = re.sub(r'<script src="/static/filenote\.js" defer></script>\n?', "", index)
    index = index.replace('<script type="module" src="/static/main.js"></script>',
                          '<script type="module">import "micrograd/main.js";</script>')
    files = json.dumps(made_files(engine)).replace("</", "<\\/")
    language = f'<meta name="micrograd-lang" content="{lang}">\n' if lang else ""
    head = (f'<base href="{BASE}">\n<meta name="micrograd-transport" content="widget">\n{language}'
            f"<style>{NOT_IN_A_CELL} {{ display: none; }}</style>\n"
            f'<script type="application/json" id="micrograd-files">{files}</script>\n{_FETCH}\n'
            f'<script type="importmap">{json.dumps({"imports": imports})}</script>\n')
    at = index.index("<meta charset")
    end = index.index("\n", at) + 1
    return index[:end] + head + index[end:]
