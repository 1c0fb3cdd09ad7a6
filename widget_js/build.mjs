// Builds src/widget.js into dist/widget.js (one minified file, CSS inlined) and dist/manifest.json.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const here = new URL(".", import.meta.url).pathname;
const css = (await esbuild.transform(readFileSync(`${here}src/styles.css`, "utf8"), { loader: "css", minify: true })).code;
const packageVersion = JSON.parse(readFileSync(`${here}package.json`, "utf8")).version || "0";

async function bundle(version) {
  const result = await esbuild.build({
    entryPoints: [`${here}src/widget.js`],
    bundle: true,
    minify: true,
    format: "iife",
    target: ["es2020"],
    write: false,
    legalComments: "none",
    define: { __PARLEY_CSS__: JSON.stringify(css.trim()), __PARLEY_VERSION__: JSON.stringify(version) },
  });
  return result.outputFiles[0].contents;
}

// The version is the hash of the code itself, so it changes exactly when the widget does.
const draft = await bundle(packageVersion);
const hash = createHash("sha256").update(draft).digest("hex").slice(0, 12);
const code = await bundle(hash);
mkdirSync(`${here}dist`, { recursive: true });
writeFileSync(`${here}dist/widget.js`, code);
const manifest = { file: "widget.js", hash, bytes: code.length, gzip_bytes: gzipSync(code, { level: 9 }).length };
writeFileSync(`${here}dist/manifest.json`, JSON.stringify(manifest, null, 2) + "\n");
console.log(`widget.js ${manifest.bytes} bytes, ${manifest.gzip_bytes} gzipped, version ${hash}`);
