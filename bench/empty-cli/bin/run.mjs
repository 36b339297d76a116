#!/usr/bin/env node
// The same two lines as fex's bin/run.js; @oclif/core resolves to the repository's node_modules.
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
