// A real OpenID Connect provider (the npm package `oidc-provider`) on loopback, for
// toolgate's credential tests (tests/it/idp.rs).
//
// - Listens on 127.0.0.1, port 0 (or $PORT); the first stdout line is the issuer URL.
// - client_credentials with resource indicators issues JWT access tokens (`typ: at+jwt`)
//   for the requested resource, signed RS256, ES256 or EdDSA by client:
//   `client-rs256`, `client-es256`, `client-eddsa` (secret: `secret-<client id>`).
// - `POST /admin/rotate` rebuilds the provider with fresh keys (new `kid`s) listed before
//   the previous ones; tokens are then signed with the new keys.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';

const SCOPES = 'tools:read tools:write';

function signingKeys(generation) {
  const jwk = (type, options, alg) => {
    const { privateKey } = generateKeyPairSync(type, options);
    return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: `${alg.toLowerCase()}-${generation}-${randomUUID().slice(0, 8)}` };
  };
  return [
    jwk('rsa', { modulusLength: 2048 }, 'RS256'),
    jwk('ec', { namedCurve: 'P-256' }, 'ES256'),
    jwk('ed25519', {}, 'EdDSA'),
  ];
}

const clients = ['RS256', 'ES256', 'EdDSA'].map((alg) => {
  const id = `client-${alg.toLowerCase()}`;
  return {
    client_id: id,
    client_secret: `secret-${id}`,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_post',
    scope: SCOPES,
    'urn:toolgate:alg': alg,
  };
});

function build(issuer, keys) {
  const provider = new Provider(issuer, {
    clients,
    extraClientMetadata: { properties: ['urn:toolgate:alg'] },
    jwks: { keys },
    scopes: SCOPES.split(' '),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      revocation: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource, client) => ({
          scope: SCOPES,
          audience: resource,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: client['urn:toolgate:alg'] } },
        }),
      },
    },
    extraTokenClaims: () => ({ roles: ['developer'] }),
  });
  provider.on('server_error', (ctx, error) => console.error('server_error', error));
  return provider;
}

let keys = signingKeys(1);
let generation = 1;
let handler = null;

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/admin/rotate') {
    generation += 1;
    keys = [...signingKeys(generation), ...keys].slice(0, 6);
    handler = build(issuer, keys).callback();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kids: keys.map((key) => key.kid) }));
    return;
  }
  handler(req, res);
});

let issuer = '';
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  handler = build(issuer, keys).callback();
  process.stdout.write(`${issuer}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
