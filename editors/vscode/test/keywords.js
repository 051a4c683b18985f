// Keeps the grammars in step with the languages they colour.
//
// 1. Every word of grammar/*.pest (its keywords, and the day names of windows) gets its
//    scope in syntaxes/toolgate.tmLanguage.json, and inside a name (`x-KEYWORD`,
//    `KEYWORD_x`) it is no keyword: names may contain `-`.
// 2. Every word the policy grammar's regular expressions name is a word of the pest grammar,
//    so that a word dropped from the language does not stay coloured.
// 3. Every word the tests-file parser (src/testing/parse*.rs) matches gets a keyword scope
//    in syntaxes/toolgate-tests.tmLanguage.json.
'use strict';
const fs = require('fs');
const path = require('path');
const { tokenize } = require('./tokenize');

const repo = path.join(__dirname, '..', '..', '..');
const here = path.join(__dirname, '..');
let passed = 0;
let failed = 0;
function check(ok, what) {
  if (ok) passed++;
  else {
    failed++;
    console.log(`not ok: ${what}`);
  }
}

// --- the pest grammar -----------------------------------------------------------------
const pestDir = path.join(repo, 'grammar');
const pest = fs
  .readdirSync(pestDir)
  .filter((f) => f.endsWith('.pest'))
  .map((f) => fs.readFileSync(path.join(pestDir, f), 'utf8'))
  .join('\n')
  .replace(/^\s*\/\/.*$/gm, '');
const literals = (text) => [...text.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);
// The body of the rule `name`, from its `{` to the matching `}`.
const ruleBody = (name) => {
  const start = pest.search(new RegExp(`^${name}\\s*=\\s*[@_$!]?\\{`, 'm'));
  if (start < 0) throw new Error(`grammar/*.pest has no rule \`${name}\``);
  let depth = 0;
  let inString = false;
  for (let i = pest.indexOf('{', start); i < pest.length; i++) {
    const c = pest[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return pest.slice(pest.indexOf('{', start) + 1, i);
  }
  throw new Error(`the rule \`${name}\` does not end`);
};
const wordsOf = (text) => literals(text).filter((w) => /^[a-z_]{2,}$/.test(w));
const words = new Set(wordsOf(pest));
const keywords = new Set(wordsOf(ruleBody('keyword')));
const days = new Set(wordsOf(ruleBody('day')));
check(keywords.size >= 40, `the pest rule \`keyword\` lists ${keywords.size} words (expected 40 or more)`);
check(days.size === 7, `the pest rule \`day\` lists ${days.size} days`);
for (const w of words) {
  check(keywords.has(w) || days.has(w), `the pest word "${w}" is neither in the rule \`keyword\` nor a day`);
}

// Scopes a keyword may have: none is a plain name, none is invalid.
const keywordScope = /^(keyword|storage\.type|support\.(type|function)|variable\.language|constant\.language)\./;
const policy = 'source.toolgate-policy';
const only = (lines) => lines.flat().filter((t) => t.text.trim() !== '');

(async () => {
  for (const w of [...keywords].sort()) {
    const alone = only(await tokenize(policy, w));
    check(
      alone.length === 1 && alone[0].text === w && alone[0].scopes.some((s) => keywordScope.test(s)),
      `keyword "${w}" is scoped ${JSON.stringify(alone.map((t) => [t.text, t.scopes.join(' ')]))}, not as a keyword`,
    );
    for (const name of [`x-${w}`, `${w}-x`, `${w}_x`, `${w}2`]) {
      const tokens = only(await tokenize(policy, `role ${name}`));
      const last = tokens[tokens.length - 1];
      check(
        last && last.text === name && last.scopes.includes('entity.name.type.role.toolgate'),
        `"role ${name}": the name is scoped ${JSON.stringify(tokens.map((t) => [t.text, t.scopes.join(' ')]))}`,
      );
    }
  }
  for (const d of [...days].sort()) {
    const tokens = only(await tokenize(policy, `window w = ${d}-${d} 09:00-17:00`));
    check(
      tokens.filter((t) => t.text === d && t.scopes.includes(`constant.language.day.${d}.toolgate`)).length === 2,
      `day "${d}" in a window is scoped ${JSON.stringify(tokens.map((t) => [t.text, t.scopes.join(' ')]))}`,
    );
    const name = only(await tokenize(policy, `role ${d}`));
    check(
      name[1] && name[1].scopes.includes('entity.name.type.role.toolgate'),
      `"${d}" outside a window is a name, not a day`,
    );
  }

  // --- words the policy grammar names --------------------------------------------------
  const tm = JSON.parse(fs.readFileSync(path.join(here, 'syntaxes', 'toolgate.tmLanguage.json'), 'utf8'));
  const regexes = [];
  (function collect(node) {
    if (Array.isArray(node)) node.forEach(collect);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if ((k === 'match' || k === 'begin' || k === 'end') && typeof v === 'string') regexes.push(v);
        else collect(v);
      }
    }
  })(tm.repository);
  const named = new Set(
    regexes.flatMap((r) => [...r.replace(/\\./g, ' ').replace(/\[[^\]]*\]/g, ' ').matchAll(/(?<![A-Za-z])[a-z_]{2,}(?![A-Za-z])/g)].map((m) => m[0])),
  );
  check(named.size >= 40, `the policy grammar names ${named.size} words (expected 40 or more)`);
  for (const w of [...named].sort()) {
    check(keywords.has(w) || days.has(w), `the policy grammar names "${w}", which grammar/*.pest does not have`);
  }

  // --- the tests-file format ------------------------------------------------------------
  const parseDir = path.join(repo, 'src', 'testing');
  const rust = [path.join(parseDir, 'parse.rs')]
    .concat(
      fs.existsSync(path.join(parseDir, 'parse'))
        ? fs.readdirSync(path.join(parseDir, 'parse')).filter((f) => f.endsWith('.rs')).map((f) => path.join(parseDir, 'parse', f))
        : [],
    )
    .map((f) => fs.readFileSync(f, 'utf8'))
    .join('\n');
  const testWords = new Set();
  for (const m of rust.matchAll(/const (?:STATEMENTS|OPTIONS)\s*:[^=]*=\s*\[([^\]]*)\]/g)) {
    literals(m[1]).forEach((w) => testWords.add(w));
  }
  for (const m of rust.matchAll(/"([a-z_]{2,})"\s*(?:=>|\|)|\(\("([a-z_]{2,})",/g)) testWords.add(m[1] ?? m[2]);
  ['list', 'call', 'read', 'get'].forEach((w) => testWords.add(w)); // Action::from_keyword
  check(testWords.size >= 25, `found ${testWords.size} words in the tests-file parser (expected 25 or more)`);
  for (const w of [...testWords].sort()) {
    const tokens = only(await tokenize('source.toolgate-tests', w));
    check(
      tokens.length === 1 && tokens[0].scopes.some((s) => keywordScope.test(s)),
      `tests-file word "${w}" is scoped ${JSON.stringify(tokens.map((t) => [t.text, t.scopes.join(' ')]))}`,
    );
  }

  console.log(`keywords: ${passed} passed, ${failed} failed (${keywords.size} keywords, ${days.size} days, ${testWords.size} tests-file words)`);
  process.exit(failed ? 1 : 0);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
