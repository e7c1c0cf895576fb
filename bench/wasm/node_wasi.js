// Runs a WASI command under node's WebAssembly engine, for bench/wasm/run.sh:
//   node --no-liftoff node_wasi.js FILE.wasm [ARGS...]
// (--no-liftoff: straight to the optimizing compiler, TurboFan.)
'use strict';
const fs = require('fs');
const { WASI } = require('wasi');
const file = process.argv[2];
const wasi = new WASI({ version: 'preview1', args: [file, ...process.argv.slice(3)], env: {} });
const mod = new WebAssembly.Module(fs.readFileSync(file));
const inst = new WebAssembly.Instance(mod, wasi.getImportObject());
process.exitCode = wasi.start(inst);
