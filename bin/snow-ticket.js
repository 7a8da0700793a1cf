#!/usr/bin/env node
// Runs the TypeScript sources in a development checkout (tsx is a dev dependency) and the compiled
// output in an installed package, so `npx snow-ticket` never runs a stale build.
const { existsSync } = require('node:fs');
const path = require('node:path');

const source = path.join(__dirname, '..', 'src', 'cli', 'main.ts');
let useSource = existsSync(source);
if (useSource) {
  try {
    require('tsx/cjs');
  } catch {
    useSource = false;
  }
}
require(useSource ? source : path.join(__dirname, '..', 'lib', 'cli', 'main.js'));
