#!/usr/bin/env node
// Thin launcher so `npx kestrel` works without a build step: run the TypeScript CLI through tsx.
'use strict';
const path = require('node:path');
require('tsx/cjs');
require(path.join(__dirname, '..', 'cli', 'run.ts'));
