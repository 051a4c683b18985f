// Tokenizes the repository's real policies and tests files, and fails when any character
// outside whitespace is left without a scope or is scoped invalid: a construct the
// grammars do not know. Files meant to be wrong (the diagnostics cases) are left out.
'use strict';
const fs = require('fs');
const path = require('path');
const { tokenize } = require('./tokenize');

const repo = path.join(__dirname, '..', '..', '..');
const roots = ['policies', 'examples', 'tests/cases', 'tests/e2e'];
const skip = /(^|\/)(node_modules|diagnostics[^/]*)(\/|$)/;

function walk(dir, out) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    const relative = path.relative(repo, file);
    if (skip.test(relative)) continue;
    if (entry.isDirectory()) walk(file, out);
    else if (/\.(policy|tests)$/.test(entry.name)) out.push(relative);
  }
  return out;
}

(async () => {
  const files = roots.flatMap((r) => walk(path.join(repo, r), [])).sort();
  let failed = 0;
  let passed = 0;
  for (const file of files) {
    const scope = file.endsWith('.tests') ? 'source.toolgate-tests' : 'source.toolgate-policy';
    const lines = await tokenize(scope, fs.readFileSync(path.join(repo, file), 'utf8'));
    const problems = [];
    lines.forEach((tokens, i) => {
      for (const t of tokens) {
        if (t.text.trim() === '') continue;
        if (t.scopes.length === 0) {
          problems.push(`${file}:${i + 1}: ${JSON.stringify(t.text)} has no scope`);
        } else if (t.scopes.some((s) => s.startsWith('invalid.'))) {
          problems.push(`${file}:${i + 1}: ${JSON.stringify(t.text)} is ${t.scopes.join(' ')}`);
        }
      }
    });
    if (problems.length) {
      failed++;
      console.log(`not ok ${file}`);
      for (const p of problems.slice(0, 20)) console.log(`  ${p}`);
    } else {
      passed++;
    }
  }
  const policies = files.filter((f) => f.endsWith('.policy')).length;
  const tests = files.length - policies;
  // The corpus must be there: a path that moved would otherwise make this pass on nothing.
  if (policies < 10 || tests < 2) {
    console.log(`corpus: expected at least 10 .policy and 2 .tests files, found ${policies} and ${tests}`);
    failed++;
  }
  console.log(`corpus: ${passed} passed, ${failed} failed (${policies} .policy, ${tests} .tests files)`);
  process.exit(failed ? 1 : 0);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
