// Builds the one bundle Home Assistant serves: the Network panel and both cards.
// Deterministic (no timestamps, no absolute paths, fixed target), so .ci/run can rebuild
// it and compare with the committed file.
import { build } from "esbuild";

await build({
  entryPoints: ["src/index.js"],
  bundle: true,
  format: "esm",
  target: "es2021",
  minify: true,
  legalComments: "none",
  charset: "utf8",
  // TOTEM_BUNDLE_OUT: somewhere else (scripts/build-frontend --check compares the two).
  outfile: process.env.TOTEM_BUNDLE_OUT || "../custom_components/totem/frontend/totem-panel.js",
  logLevel: "warning",
});
