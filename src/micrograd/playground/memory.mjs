// micrograd playground export: Pyodide's memory right after importing micrograd, made with Node.js
// at export time (memory.py runs it). The exported page restores it instead of starting Python,
// which on a slow machine saves seconds of every first visit. memory.py runs it with TZ=UTC, so
// the exporting machine's time zone does not enter the memory either.
//   node memory.mjs PYODIDE_DIR WHEEL MODULE ENGINE OUT
// PYODIDE_DIR holds the export's Pyodide files, WHEEL this package's wheel; the memory of a
// Pyodide that unpacked WHEEL, imported MODULE and called its prepare(ENGINE) (the page's
// session, built ahead) is written to OUT. Nothing else of this machine enters it: Python sees a
// fixed environment (below), not Node's, and no paths but Pyodide's own.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [dir, wheel, module, engine, out] = process.argv.slice(2);
const { loadPyodide } = await import(pathToFileURL(join(dir, "pyodide.mjs")).href);
const pyodide = await loadPyodide({
  indexURL: dir.endsWith("/") ? dir : `${dir}/`,
  _makeSnapshot: true,
  env: { HOME: "/home/pyodide", LANG: "C.UTF-8", _: "python" }, // `_`: else this script's path,
  // LANG: else this Node's locale
  _sysExecutable: "python", // else this script's path too
  stdout: () => {},
  stderr: (line) => process.stderr.write(`${line}\n`),
});
const site = pyodide.runPython("import site; site.getsitepackages()[0]");
pyodide.unpackArchive(new Uint8Array(readFileSync(wheel)), "wheel", { extractDir: site });
const page = pyodide.pyimport(module);
page.prepare(engine);
page.destroy();
writeFileSync(out, pyodide.makeMemorySnapshot());
