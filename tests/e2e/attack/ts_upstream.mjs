#!/usr/bin/env node
// An unprotected MCP server on the official TypeScript SDK (@modelcontextprotocol/sdk
// 1.32.2): `createMcpExpressApp` (express 5, whose JSON body parser decodes any `utf-*`
// charset, UTF-7 included, through iconv-lite) and `StreamableHTTPServerTransport` with
// stateful sessions and an in-memory event store, so `GET /mcp` with `Last-Event-ID`
// replays stored events. The attack suite (tests/it/attacks/) puts `toolgate serve` in
// front of it.
//
// The oracle: every HTTP request received is appended to the log file as one JSON line
// ({"kind":"request", method, path, headers (as received, in order), raw body, decoded
// body}), and every operation the server carries out as another
// ({"kind":"executed", "executed": METHOD, "tool"/"uri"/"prompt"/"ref": NAME, "id": ID}).
//
// Usage: node ts_upstream.mjs --log FILE [--json]
//   --json   sessions answer POSTs with JSON bodies (default: event streams); a session's
//            initialize request may choose with `X-Attack-Framing: json` or `sse`.
// Prints `{"listening": "http://127.0.0.1:PORT/mcp"}` once the socket listens.

import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

// The SDK is installed once, for the e2e client, in tests/e2e/ts/node_modules.
const require = createRequire(new URL('../ts/package.json', import.meta.url));
const { McpServer, ResourceTemplate } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { createMcpExpressApp } = require('@modelcontextprotocol/sdk/server/express.js');
const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { InMemoryEventStore } = require('@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js');
const { completable } = require('@modelcontextprotocol/sdk/server/completable.js');
const {
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  isInitializeRequest,
} = require('@modelcontextprotocol/sdk/types.js');
const { z } = require('zod');

const options = { log: null, json: false };
for (let index = 2; index < process.argv.length; index += 1) {
  const argument = process.argv[index];
  if (argument === '--log') options.log = process.argv[++index];
  else if (argument === '--json') options.json = true;
  else throw new Error(`unknown argument \`${argument}\``);
}
if (!options.log) throw new Error('--log FILE is required');

function record(entry) {
  appendFileSync(options.log, `${JSON.stringify(entry)}\n`);
}

function executed(method, fields, extra) {
  record({ kind: 'executed', executed: method, ...fields, id: extra?.requestId ?? null });
}

const TOOLS = ['github.list_issues', 'db.drop_table', 'secret.tool', 'public.echo'];
const EMPLOYEES = ['alice', 'bob'];
const PAGES = ['intro', 'install'];

/** One MCP server per session, with every tool, resource and prompt of the suite. */
function buildServer() {
  const server = new McpServer(
    { name: 'toolgate-attack-ts', version: '1.0.0' },
    { capabilities: { resources: { subscribe: true, listChanged: true }, completions: {} } },
  );
  for (const tool of TOOLS) {
    server.registerTool(
      tool,
      { description: `attack tool \`${tool}\``, inputSchema: { text: z.string().optional() } },
      async (args, extra) => {
        executed('tools/call', { tool, arguments: args }, extra);
        return { content: [{ type: 'text', text: JSON.stringify({ executed: tool, text: args.text ?? '' }) }] };
      },
    );
  }
  server.registerResource(
    'salary',
    new ResourceTemplate('secret://{employee}/salary', {
      list: undefined,
      complete: {
        employee: (value) => {
          executed('completion/complete', { ref: 'secret://{employee}/salary', value });
          return EMPLOYEES.filter((name) => name.startsWith(value));
        },
      },
    }),
    { description: 'secret salaries' },
    async (uri, variables, extra) => {
      executed('resources/read', { uri: uri.href }, extra);
      return { contents: [{ uri: uri.href, text: `salary of ${variables.employee}: secret` }] };
    },
  );
  server.registerResource(
    'docs',
    new ResourceTemplate('docs://{page}', {
      list: async () => ({
        resources: PAGES.map((page) => ({ uri: `docs://${page}`, name: `docs-${page}` })),
      }),
      complete: {
        page: (value) => {
          executed('completion/complete', { ref: 'docs://{page}', value });
          return PAGES.filter((page) => page.startsWith(value));
        },
      },
    }),
    { description: 'public documentation' },
    async (uri, variables, extra) => {
      executed('resources/read', { uri: uri.href }, extra);
      return { contents: [{ uri: uri.href, text: `page ${variables.page}` }] };
    },
  );
  server.registerResource(
    'secret-plans',
    'secret://plans',
    { description: 'secret plans' },
    async (uri, extra) => {
      executed('resources/read', { uri: uri.href }, extra);
      return { contents: [{ uri: uri.href, text: 'the plans' }] };
    },
  );
  for (const prompt of ['public.prompt', 'secret.prompt']) {
    server.registerPrompt(
      prompt,
      {
        description: `attack prompt \`${prompt}\``,
        argsSchema: {
          topic: completable(z.string(), (value) => {
            executed('completion/complete', { ref: prompt, value });
            return ['alpha', 'beta'].filter((topic) => topic.startsWith(value));
          }),
        },
      },
      async (args, extra) => {
        executed('prompts/get', { prompt, arguments: args }, extra);
        return { messages: [{ role: 'user', content: { type: 'text', text: `${prompt}: ${args.topic}` } }] };
      },
    );
  }
  server.server.setRequestHandler(SubscribeRequestSchema, async (request, extra) => {
    executed('resources/subscribe', { uri: request.params.uri }, extra);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (request, extra) => {
    executed('resources/unsubscribe', { uri: request.params.uri }, extra);
    return {};
  });
  return server;
}

const transports = new Map();
const app = createMcpExpressApp();

app.all('/mcp', async (request, response) => {
  record({
    kind: 'request',
    method: request.method,
    path: request.originalUrl,
    headers: pairs(request.rawHeaders),
    raw: request.rawBody ?? '',
    decoded: request.body ?? null,
  });
  try {
    const sessionId = request.headers['mcp-session-id'];
    let transport = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
    if (!transport) {
      if (request.method !== 'POST' || !isInitializeRequest(request.body)) {
        response.status(sessionId ? 404 : 400).json({
          jsonrpc: '2.0',
          error: { code: -32000, message: sessionId ? 'session not found' : 'no session' },
          id: null,
        });
        return;
      }
      const framing = request.headers['x-attack-framing'];
      const json = framing === 'json' || (framing !== 'sse' && options.json);
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: json,
        eventStore: new InMemoryEventStore(),
        onsessioninitialized: (id) => transports.set(id, transport),
      });
      transport.onclose = () => {
        if (transport.sessionId) transports.delete(transport.sessionId);
      };
      await buildServer().connect(transport);
    }
    await transport.handleRequest(request, response, request.body);
  } catch (error) {
    record({ kind: 'error', message: String(error?.stack ?? error) });
    if (!response.headersSent) response.status(500).json({ error: String(error) });
  }
});

/** `rawHeaders` ([name, value, name, value, ...]) as [[name, value], ...]. */
function pairs(raw) {
  const result = [];
  for (let index = 0; index + 1 < raw.length; index += 2) result.push([raw[index], raw[index + 1]]);
  return result;
}

// The raw body, as the bytes arrived (latin1, one character per byte), read alongside the
// SDK's JSON parser: a second `data` listener sees the same chunks.
const server = createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    request.rawBody = Buffer.concat(chunks).toString('latin1');
  });
  app(request, response);
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(`${JSON.stringify({ listening: `http://127.0.0.1:${port}/mcp` })}\n`);
});
