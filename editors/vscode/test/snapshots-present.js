// vscode-tmgrammar-snap writes a missing snapshot and passes: make a missing one fail
// instead (run `npx vscode-tmgrammar-snap -g ... -u` by hand to write them).
'use strict';
const fs = require('fs');
const path = require('path');
const dir = path.join(__dirname, 'snap');
const inputs = fs.readdirSync(dir).filter((f) => /\.(policy|tests)$/.test(f));
const missing = inputs.filter((f) => !fs.existsSync(path.join(dir, `${f}.snap`)));
for (const f of missing) console.log(`not ok: test/snap/${f} has no snapshot test/snap/${f}.snap`);
if (inputs.length === 0) console.log('not ok: test/snap/ has no inputs');
console.log(`snapshots: ${inputs.length - missing.length} passed, ${missing.length + (inputs.length ? 0 : 1)} failed`);
process.exit(missing.length || !inputs.length ? 1 : 0);
