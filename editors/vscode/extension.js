// The toolgate extension: starts `toolgate lsp` (a language server on standard input and
// output) for toolgate policies. Syntax highlighting comes from the grammars in syntaxes/
// and works without the server.
'use strict';
const path = require('path');
const vscode = require('vscode');
const { LanguageClient, State } = require('vscode-languageclient/node');

/** @type {LanguageClient | undefined} */
let client;
/** @type {vscode.OutputChannel | undefined} */
let output;

/** The executable: `toolgate.path`, with `~` expanded and a relative path taken from the first workspace folder. */
function executable(config) {
  let command = (config.get('path') || 'toolgate').trim() || 'toolgate';
  if (command === '~' || command.startsWith('~/')) {
    command = path.join(require('os').homedir(), command.slice(1));
  }
  const folders = vscode.workspace.workspaceFolders;
  if (!path.isAbsolute(command) && /[\\/]/.test(command) && folders && folders.length > 0) {
    command = path.join(folders[0].uri.fsPath, command);
  }
  return command;
}

async function start() {
  const config = vscode.workspace.getConfiguration('toolgate');
  if (!config.get('server.enable', true)) {
    output.appendLine('toolgate.server.enable is false: the language server is not started');
    return;
  }
  const command = executable(config);
  const args = ['lsp', ...config.get('server.args', [])];
  const serverOptions = {
    run: { command, args },
    debug: { command, args },
  };
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'toolgate-policy' },
      { scheme: 'untitled', language: 'toolgate-policy' },
    ],
    synchronize: {
      // A policy may be a directory of .policy files: the server hears of changes to
      // any of them, also those not open in the editor.
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.policy'),
    },
    outputChannel: output,
  };
  client = new LanguageClient('toolgate', 'toolgate language server', serverOptions, clientOptions);
  output.appendLine(`starting ${command} ${args.join(' ')}`);
  try {
    await client.start();
  } catch (error) {
    const message = error && error.message ? error.message : String(error);
    output.appendLine(`the language server did not start: ${message}`);
    const choice = await vscode.window.showErrorMessage(
      `toolgate: could not start \`${command} lsp\` (${message}). Set \`toolgate.path\` to the toolgate executable, or turn the server off with \`toolgate.server.enable\`.`,
      'Open Settings',
    );
    if (choice === 'Open Settings') {
      vscode.commands.executeCommand('workbench.action.openSettings', 'toolgate.');
    }
    client = undefined;
  }
}

async function stop() {
  const running = client;
  client = undefined;
  if (running && running.state !== State.Stopped) {
    await running.stop();
  }
}

async function restart() {
  await stop();
  await start();
}

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
  output = vscode.window.createOutputChannel('toolgate');
  context.subscriptions.push(output);
  context.subscriptions.push(vscode.commands.registerCommand('toolgate.restartServer', restart));
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (
        event.affectsConfiguration('toolgate.path') ||
        event.affectsConfiguration('toolgate.server')
      ) {
        return restart();
      }
      return undefined;
    }),
  );
  await start();
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate, executable };
