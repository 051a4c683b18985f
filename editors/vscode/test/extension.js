// Runs extension.js against stand-ins for the `vscode` API and the language client, and
// checks what it would start: `toolgate lsp` over stdio for toolgate-policy documents,
// the executable from `toolgate.path`, nothing when `toolgate.server.enable` is false,
// and an error message (not an exception) when the executable cannot be started.
'use strict';
const assert = require('assert');
const Module = require('module');
const path = require('path');

let settings = {};
let started = [];
let stopped = 0;
let errors = [];
let failStart = false;
const handlers = {};

const vscode = {
  workspace: {
    workspaceFolders: [{ uri: { fsPath: '/work/space' } }],
    getConfiguration: (section) => {
      assert.strictEqual(section, 'toolgate');
      return { get: (key, fallback) => (key in settings ? settings[key] : fallback) };
    },
    createFileSystemWatcher: (glob) => ({ glob }),
    onDidChangeConfiguration: (f) => {
      handlers.config = f;
      return { dispose() {} };
    },
  },
  window: {
    createOutputChannel: () => ({ appendLine() {}, dispose() {} }),
    showErrorMessage: async (message) => {
      errors.push(message);
      return undefined;
    },
  },
  commands: {
    registerCommand: (name, f) => {
      handlers[name] = f;
      return { dispose() {} };
    },
    executeCommand() {},
  },
};
const State = { Stopped: 1, Starting: 3, Running: 2 };
class LanguageClient {
  constructor(id, name, serverOptions, clientOptions) {
    Object.assign(this, { id, name, serverOptions, clientOptions, state: State.Stopped });
  }
  async start() {
    if (failStart) throw new Error('spawn toolgate ENOENT');
    this.state = State.Running;
    started.push(this);
  }
  async stop() {
    this.state = State.Stopped;
    stopped++;
  }
}
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === 'vscode') return vscode;
  if (request === 'vscode-languageclient/node') return { LanguageClient, State };
  return load.call(this, request, ...rest);
};
const extension = require('../extension.js');
const manifest = require('../package.json');

const context = () => ({ subscriptions: [] });
let passed = 0;
async function test(name, f) {
  settings = {};
  started = [];
  stopped = 0;
  errors = [];
  failStart = false;
  await f();
  await extension.deactivate();
  passed++;
  console.log(`ok - ${name}`);
}

(async () => {
  await test('starts `toolgate lsp` over stdio for toolgate-policy documents', async () => {
    await extension.activate(context());
    assert.strictEqual(started.length, 1);
    const c = started[0];
    assert.deepStrictEqual(c.serverOptions.run, { command: 'toolgate', args: ['lsp'] });
    assert.strictEqual(c.serverOptions.run.transport, undefined, 'stdio is the default transport');
    assert.deepStrictEqual(
      c.clientOptions.documentSelector.map((s) => s.language),
      ['toolgate-policy', 'toolgate-policy'],
    );
    assert.strictEqual(c.clientOptions.synchronize.fileEvents.glob, '**/*.policy');
  });
  await test('toolgate.path and toolgate.server.args', async () => {
    settings = { path: '/opt/toolgate/bin/toolgate', 'server.args': ['--log', 'debug'] };
    await extension.activate(context());
    assert.deepStrictEqual(started[0].serverOptions.run, {
      command: '/opt/toolgate/bin/toolgate',
      args: ['lsp', '--log', 'debug'],
    });
  });
  await test('a relative toolgate.path is taken from the workspace folder', async () => {
    settings = { path: 'target/release/toolgate' };
    await extension.activate(context());
    assert.strictEqual(started[0].serverOptions.run.command, path.join('/work/space', 'target/release/toolgate'));
  });
  await test('toolgate.server.enable = false starts nothing', async () => {
    settings = { 'server.enable': false };
    await extension.activate(context());
    assert.strictEqual(started.length, 0);
  });
  await test('a changed setting restarts the server', async () => {
    await extension.activate(context());
    settings = { path: '/usr/local/bin/toolgate' };
    await handlers.config({ affectsConfiguration: (s) => s === 'toolgate.path' });
    assert.strictEqual(stopped, 1);
    assert.strictEqual(started.length, 2);
    assert.strictEqual(started[1].serverOptions.run.command, '/usr/local/bin/toolgate');
    await handlers['toolgate.restartServer']();
    assert.strictEqual(started.length, 3);
  });
  await test('an executable that does not start is an error message, not a crash', async () => {
    failStart = true;
    await extension.activate(context());
    assert.strictEqual(errors.length, 1);
    assert.match(errors[0], /toolgate\.path/);
  });
  await test('the manifest contributes what extension.js reads', async () => {
    const props = manifest.contributes.configuration.properties;
    for (const key of ['toolgate.path', 'toolgate.server.enable', 'toolgate.server.args']) {
      assert.ok(props[key], `package.json contributes no setting ${key}`);
    }
    assert.strictEqual(props['toolgate.path'].default, 'toolgate');
    assert.strictEqual(props['toolgate.server.enable'].default, true);
    assert.deepStrictEqual(manifest.activationEvents, ['onLanguage:toolgate-policy']);
    assert.deepStrictEqual(manifest.contributes.commands.map((c) => c.command), ['toolgate.restartServer']);
    const languages = Object.fromEntries(manifest.contributes.languages.map((l) => [l.id, l.extensions]));
    assert.deepStrictEqual(languages, { 'toolgate-policy': ['.policy'], 'toolgate-tests': ['.tests'] });
  });
  console.log(`extension: ${passed} passed, 0 failed`);
})().catch((e) => {
  console.log(`extension: ${passed} passed, 1 failed`);
  console.error(e);
  process.exit(1);
});
