#!/usr/bin/env node
// The `l4` command. The TypeScript sources are compiled to dist/ by `npm install` (the
// `prepare` script); this shim only loads the compiled entry point.
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
