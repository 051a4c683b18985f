// Tokenizes text with the extension's TextMate grammars, as VS Code does (vscode-textmate
// and the Oniguruma regular expressions it runs on). Shared by keywords.js and corpus.js.
'use strict';
const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const root = path.join(__dirname, '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const grammarFiles = Object.fromEntries(
  manifest.contributes.grammars.map((g) => [g.scopeName, path.join(root, g.path)]),
);

let registry;
function getRegistry() {
  if (!registry) {
    const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm')).buffer;
    const onigLib = oniguruma.loadWASM(wasm).then(() => ({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }));
    registry = new vsctm.Registry({
      onigLib,
      loadGrammar: async (scopeName) => {
        const file = grammarFiles[scopeName];
        if (!file) return null;
        return vsctm.parseRawGrammar(fs.readFileSync(file, 'utf8'), file);
      },
    });
  }
  return registry;
}

/** Returns, for each line of `text`, its tokens: {text, scopes} (scopes without the root). */
async function tokenize(scopeName, text) {
  const grammar = await getRegistry().loadGrammar(scopeName);
  if (!grammar) throw new Error(`no grammar for ${scopeName}`);
  let state = vsctm.INITIAL;
  const lines = [];
  for (const line of text.split(/\r?\n/)) {
    const result = grammar.tokenizeLine(line, state);
    lines.push(
      result.tokens.map((t) => ({
        text: line.slice(t.startIndex, t.endIndex),
        scopes: t.scopes.slice(1),
      })),
    );
    state = result.ruleStack;
  }
  return lines;
}

module.exports = { tokenize, manifest, root };

// `node test/tokenize.js FILE...` prints each file's tokens, to look at what the grammar does.
if (require.main === module) {
  (async () => {
    for (const file of process.argv.slice(2)) {
      const scope = file.endsWith('.tests') ? 'source.toolgate-tests' : 'source.toolgate-policy';
      const lines = await tokenize(scope, fs.readFileSync(file, 'utf8'));
      lines.forEach((tokens, i) => {
        for (const t of tokens) {
          if (t.text.trim() === '' && t.scopes.length === 0) continue;
          console.log(`${i + 1}\t${JSON.stringify(t.text)}\t${t.scopes.join(' ')}`);
        }
      });
    }
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
