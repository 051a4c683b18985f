#!/usr/bin/env node
// An end-to-end MCP client on the official TypeScript SDK (@modelcontextprotocol/sdk).
//
// Runs one scenario against a streamable-HTTP MCP endpoint and prints ONE JSON object of
// what it observed, the same shape as tests/e2e/python/client.py prints:
//
//   client.mjs URL [--token T | --api-key K] [--list-tools] [--call NAME[=JSON]]...
//                  [--arguments JSON] [--list-prompts] [--get-prompt NAME[=JSON]]...
//                  [--metadata]
//
// `--call NAME=JSON` calls NAME with the JSON object; a bare NAME gets `--arguments`.
// `--get-prompt NAME=JSON` gets the prompt NAME with the JSON object (MCP prompt
// arguments are strings); a bare NAME gets none. Calls run first, in order, then prompts.
//
// The credential goes into the transport's `requestInit` headers (`Authorization: Bearer T`,
// or `X-API-Key: K`). A wrapped `fetch` records every HTTP exchange (method, JSON-RPC
// method and name, status, `WWW-Authenticate`); each step reports the exchanges it caused.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const SCENARIO_MILLISECONDS = 60_000;
const CONNECT = ['initialize', 'server/discover'];
const LIST = ['tools/list'];
const CALL = ['tools/call'];
const LIST_PROMPTS = ['prompts/list'];
const GET_PROMPT = ['prompts/get'];

function parseOptions(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      token: { type: 'string' },
      'api-key': { type: 'string' },
      'list-tools': { type: 'boolean', default: false },
      call: { type: 'string', multiple: true, default: [] },
      arguments: { type: 'string', default: '{}' },
      'list-prompts': { type: 'boolean', default: false },
      'get-prompt': { type: 'string', multiple: true, default: [] },
      metadata: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) throw new Error('usage: client.mjs URL [options]');
  if (values.token !== undefined && values['api-key'] !== undefined) {
    throw new Error('`--token` and `--api-key` exclude each other');
  }
  return { url: positionals[0], ...values, arguments: JSON.parse(values.arguments) };
}

class Recorder {
  constructor() {
    this.exchanges = [];
  }

  /** A fetch that records each exchange before handing the response to the SDK. */
  fetch() {
    return async (url, init = {}) => {
      const response = await fetch(url, init);
      const rpc = rpcSummary(init);
      this.exchanges.push({
        http_method: init.method ?? 'GET',
        rpc_method: rpc.method ?? null,
        rpc_name: rpc.name ?? null,
        status: response.status,
        www_authenticate: response.headers.get('www-authenticate'),
        content_type: response.headers.get('content-type'),
        cache_control: response.headers.get('cache-control'),
      });
      return response;
    };
  }

  mark() {
    return this.exchanges.length;
  }

  since(mark) {
    return this.exchanges.slice(mark);
  }
}

function rpcSummary(init) {
  if (init.method !== 'POST' || typeof init.body !== 'string') return {};
  try {
    const message = JSON.parse(init.body);
    const params = message && typeof message.params === 'object' && message.params ? message.params : {};
    return { method: message.method, name: params.name ?? params.uri };
  } catch {
    return {};
  }
}

function describe(error) {
  if (error === null || error === undefined) return null;
  return { code: typeof error.code === 'number' ? error.code : null, message: String(error.message ?? error) };
}

// The step's own exchange: the last POST of one of `methods` (and of `name`, for a call),
// so notifications and the GET event stream opened on the side do not count.
function step(recorder, mark, methods, ok, error, fields) {
  const exchanges = recorder.since(mark);
  const own = exchanges.filter(
    (exchange) =>
      methods.includes(exchange.rpc_method) && (fields.name === undefined || exchange.rpc_name === fields.name),
  );
  const last = own.at(-1) ?? {};
  return {
    ok,
    error: describe(error),
    status: last.status ?? null,
    www_authenticate: last.www_authenticate ?? null,
    cache_control: last.cache_control ?? null,
    http: exchanges,
    ...fields,
  };
}

function textOf(result) {
  return (result.content ?? []).map((block) => block.text ?? '').join('');
}

// `NAME` (called with `--arguments`) or `NAME=JSON` (called with that object).
function splitCall(call, fallback) {
  const at = call.indexOf('=');
  return at < 0 ? [call, fallback] : [call.slice(0, at), JSON.parse(call.slice(at + 1))];
}

async function runCalls(client, recorder, requested, fallback) {
  const calls = [];
  for (const call of requested) {
    const [name, args] = splitCall(call, fallback);
    const mark = recorder.mark();
    try {
      const result = await client.callTool({ name, arguments: args });
      calls.push(step(recorder, mark, CALL, true, null, { name, is_error: Boolean(result.isError), text: textOf(result) }));
    } catch (error) {
      calls.push(step(recorder, mark, CALL, false, error, { name, is_error: null, text: null }));
    }
  }
  return calls;
}

function promptText(result) {
  return (result.messages ?? []).map((message) => message.content?.text ?? '').join('');
}

async function runPromptGets(client, recorder, requested) {
  const gets = [];
  for (const get of requested) {
    const [name, args] = splitCall(get, {});
    const mark = recorder.mark();
    try {
      const result = await client.getPrompt({ name, arguments: args });
      gets.push(step(recorder, mark, GET_PROMPT, true, null, { name, text: promptText(result) }));
    } catch (error) {
      gets.push(step(recorder, mark, GET_PROMPT, false, error, { name, text: null }));
    }
  }
  return gets;
}

async function fetchMetadata(recorder) {
  for (const exchange of recorder.exchanges) {
    const found = /resource_metadata="([^"]+)"/.exec(exchange.www_authenticate ?? '');
    if (found) {
      const response = await fetch(found[1]);
      let body = null;
      try {
        body = await response.json();
      } catch {
        body = null;
      }
      return { url: found[1], status: response.status, body };
    }
  }
  return null;
}

async function scenario(options, recorder) {
  const report = { initialize: null, tools: null, calls: [], prompts: null, prompt_gets: [], metadata: null };
  const headers = {};
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
  if (options['api-key'] !== undefined) headers['X-API-Key'] = options['api-key'];
  const transport = new StreamableHTTPClientTransport(new URL(options.url), {
    requestInit: { headers },
    fetch: recorder.fetch(),
  });
  const client = new Client({ name: 'toolgate-e2e-ts', version: '1.0.0' });
  let mark = recorder.mark();
  try {
    await client.connect(transport);
    report.initialize = step(recorder, mark, CONNECT, true, null, {
      protocol_version: transport.protocolVersion ?? null,
      server_name: client.getServerVersion()?.name ?? null,
    });
  } catch (error) {
    report.initialize = step(recorder, mark, CONNECT, false, error, { protocol_version: null });
  }
  if (report.initialize.ok) {
    if (options['list-tools']) {
      mark = recorder.mark();
      try {
        const listed = await client.listTools();
        const names = listed.tools.map((tool) => tool.name).sort();
        report.tools = step(recorder, mark, LIST, true, null, { names });
      } catch (error) {
        report.tools = step(recorder, mark, LIST, false, error, { names: null });
      }
    }
    report.calls = await runCalls(client, recorder, options.call, options.arguments);
    if (options['list-prompts']) {
      mark = recorder.mark();
      try {
        const listed = await client.listPrompts();
        const names = listed.prompts.map((prompt) => prompt.name).sort();
        report.prompts = step(recorder, mark, LIST_PROMPTS, true, null, { names });
      } catch (error) {
        report.prompts = step(recorder, mark, LIST_PROMPTS, false, error, { names: null });
      }
    }
    report.prompt_gets = await runPromptGets(client, recorder, options['get-prompt']);
  }
  try {
    await client.close();
  } catch (error) {
    report.late_error = describe(error);
  }
  if (options.metadata) report.metadata = await fetchMetadata(recorder);
  return report;
}

function sdkVersion() {
  const packageFile = new URL('./node_modules/@modelcontextprotocol/sdk/package.json', import.meta.url);
  return JSON.parse(readFileSync(packageFile, 'utf8')).version;
}

function sorted(value) {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sorted(value[key])]));
  }
  return value;
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const recorder = new Recorder();
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('scenario timed out')), SCENARIO_MILLISECONDS);
  });
  const report = await Promise.race([scenario(options, recorder), timeout]);
  clearTimeout(timer);
  report.sdk = { language: 'typescript', name: '@modelcontextprotocol/sdk', version: sdkVersion() };
  process.stdout.write(`${JSON.stringify(sorted(report))}\n`);
  // Open keep-alive sockets or a pending GET stream must not keep the process alive.
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(`client.mjs: ${error.stack ?? error}\n`);
  process.exit(2);
});
