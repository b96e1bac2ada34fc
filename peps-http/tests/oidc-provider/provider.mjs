// Local OpenID Provider for PEPS tests ONLY. Never expose it: it has
// endpoints that hand out broken tokens on purpose (see README.md).
//
//   node provider.mjs <config.json> [--ignore-stdin]
//
// Prints one line on stdout once listening: {"issuer":"http://127.0.0.1:PORT"}
// Everything else (oidc-provider notices included) goes to stderr.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

import * as jose from 'jose';
import Provider from 'oidc-provider';

// oidc-provider prints its notices with console.info (stdout); stdout is
// reserved for the single issuer line.
console.log = (...args) => console.error(...args);
console.info = (...args) => console.error(...args);

// ---------------------------------------------------------------- arguments

const argv = process.argv.slice(2);
const flags = new Set(argv.filter((a) => a.startsWith('--')));
const positional = argv.filter((a) => !a.startsWith('--'));
for (const f of flags) {
  if (!['--ignore-stdin', '--help'].includes(f)) {
    console.error(`unknown flag ${f}`);
    process.exit(2);
  }
}
if (flags.has('--help') || positional.length !== 1) {
  console.error('usage: node provider.mjs <config.json> [--ignore-stdin]');
  process.exit(flags.has('--help') ? 0 : 2);
}

const config = JSON.parse(fs.readFileSync(positional[0], 'utf8'));

// ----------------------------------------------------------------- profiles

const FC_IDENTITY = ['given_name', 'family_name', 'birthdate', 'gender', 'birthplace', 'birthcountry'];

const PROFILES = {
  // FranceConnect v2 like.
  franceconnect: {
    title: 'FranceConnect',
    alg: 'ES256',
    acrValues: ['eidas1', 'eidas2', 'eidas3'],
    defaultAcr: 'eidas1',
    claims: {
      openid: ['sub'],
      given_name: ['given_name'],
      family_name: ['family_name'],
      birthdate: ['birthdate'],
      gender: ['gender'],
      birthplace: ['birthplace'],
      birthcountry: ['birthcountry'],
      email: ['email'],
      preferred_username: ['preferred_username'],
      // Aggregate scopes documented by FranceConnect.
      profile: [...FC_IDENTITY, 'preferred_username'],
      birth: ['birthplace', 'birthcountry'],
      identite_pivot: FC_IDENTITY,
    },
  },
  // ProConnect like.
  proconnect: {
    title: 'ProConnect',
    alg: 'RS256',
    acrValues: [
      'eidas1',
      'https://proconnect.gouv.fr/assurance/self-asserted',
      'https://proconnect.gouv.fr/assurance/self-asserted-2fa',
      'https://proconnect.gouv.fr/assurance/consistency-checked',
      'https://proconnect.gouv.fr/assurance/consistency-checked-2fa',
    ],
    defaultAcr: 'eidas1',
    claims: {
      openid: ['sub'],
      email: ['email'],
      given_name: ['given_name'],
      usual_name: ['usual_name'],
      uid: ['uid'],
      siret: ['siret'],
      phone: ['phone'],
      idp_id: ['idp_id'],
      // Optional ProConnect scopes, served when the user has the claim.
      siren: ['siren'],
      organizational_unit: ['organizational_unit'],
      belonging_population: ['belonging_population'],
      chorusdt: ['chorusdt'],
    },
  },
};

const profile = PROFILES[config.profile];
if (!profile) {
  console.error(`config.profile must be one of ${Object.keys(PROFILES).join(', ')}`);
  process.exit(2);
}

// -------------------------------------------------------------------- users

function subFor(login) {
  return crypto.createHash('sha256').update(`peps-test:${config.profile}:${login}`).digest('hex');
}

const users = (config.users || []).map((u) => {
  if (typeof u.login !== 'string' || !u.login) throw new Error('each user needs a login');
  const claims = { ...(u.claims || {}) };
  if (!claims.sub) claims.sub = subFor(u.login);
  return { login: u.login, claims };
});
const usersByLogin = new Map(users.map((u) => [u.login, u]));
const usersBySub = new Map(users.map((u) => [u.claims.sub, u]));

// --------------------------------------------------------------------- keys

async function newSigningJwk(alg = profile.alg) {
  const { privateKey } = await jose.generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const jwk = await jose.exportJWK(privateKey);
  jwk.kid = `${alg.toLowerCase()}-${crypto.randomBytes(8).toString('hex')}`;
  jwk.alg = alg;
  jwk.use = 'sig';
  return jwk;
}

function publicJwk(jwk) {
  const { d, p, q, dp, dq, qi, ...pub } = jwk;
  return pub;
}

// signingKeys[0] signs; the others (only with rotate {"keep_old": true}) are
// still published in JWKS.
let signingKeys = [await newSigningJwk()];
const cookieKeys = [crypto.randomBytes(32).toString('base64url')];

// ------------------------------------------------------------------ clients

const clients = (config.clients || []).map((c) => ({
  client_id: c.client_id,
  client_secret: c.client_secret,
  redirect_uris: c.redirect_uris,
  post_logout_redirect_uris: c.post_logout_redirect_uris || [],
  token_endpoint_auth_method: c.token_endpoint_auth_method || 'client_secret_basic',
  response_types: ['code'],
  grant_types: ['authorization_code'],
  id_token_signed_response_alg: profile.alg,
  userinfo_signed_response_alg: profile.alg,
}));
const clientsById = new Map(clients.map((c) => [c.client_id, c]));

// ------------------------------------------------------- tamper (test-only)

const TAMPER_MODES = new Set(['aud', 'iss', 'nonce', 'exp', 'alg_none', 'unknown_key', 'hs256']);
let pendingTamper; // { mode, secret }

const b64json = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');

async function tamperIdToken(idToken, { mode, secret }) {
  const header = jose.decodeProtectedHeader(idToken);
  const payload = jose.decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  const current = signingKeys[0];

  switch (mode) {
    case 'aud':
      payload.aud = 'urn:peps-test:wrong-audience';
      break;
    case 'iss':
      payload.iss = 'https://wrong-issuer.invalid';
      break;
    case 'nonce':
      payload.nonce = `tampered-${crypto.randomBytes(12).toString('base64url')}`;
      break;
    case 'exp': {
      const lifetime = (payload.exp && payload.iat) ? payload.exp - payload.iat : 3600;
      payload.exp = now - 3600;
      payload.iat = payload.exp - lifetime;
      if (payload.auth_time && payload.auth_time > payload.iat) payload.auth_time = payload.iat;
      break;
    }
    case 'alg_none':
      return `${b64json({ alg: 'none' })}.${b64json(payload)}.`;
    case 'unknown_key': {
      const rogue = await newSigningJwk(header.alg);
      const key = await jose.importJWK(rogue, header.alg);
      return new jose.SignJWT(payload)
        .setProtectedHeader({ ...header, kid: rogue.kid })
        .sign(key);
    }
    case 'hs256': {
      let key;
      if (secret === 'client_secret') {
        const aud = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
        key = Buffer.from(clientsById.get(aud)?.client_secret || '');
      } else {
        const pub = crypto.createPublicKey({ key: publicJwk(current), format: 'jwk' });
        key = Buffer.from(pub.export({ type: 'spki', format: 'pem' }));
      }
      return new jose.SignJWT(payload)
        .setProtectedHeader({ ...header, alg: 'HS256' })
        .sign(key);
    }
    default:
      throw new Error(`unknown tamper mode ${mode}`);
  }
  const key = await jose.importJWK(current, current.alg);
  return new jose.SignJWT(payload).setProtectedHeader({ ...header, alg: current.alg, kid: current.kid }).sign(key);
}

// ---------------------------------------------------------------- provider

const html = (s) => String(s).replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
}[c]));

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${html(title)}</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}label{display:block;margin:.8rem 0 .2rem}input,select,button{font-size:1rem}.erreur{color:#b00}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

function buildProvider(issuer) {
  const provider = new Provider(issuer, {
    clients,
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      id_token_signed_response_alg: profile.alg,
      userinfo_signed_response_alg: profile.alg,
      token_endpoint_auth_method: 'client_secret_basic',
    },
    jwks: { keys: signingKeys },
    cookies: { keys: cookieKeys },
    // `acr` rides with `openid`: otherwise oidc-provider puts it in the ID token only when
    // the client requested acr values, while FranceConnect and ProConnect always send it
    // (`eidas1` when nothing was requested).
    claims: { ...profile.claims, openid: [...profile.claims.openid, 'acr'] },
    scopes: Object.keys(profile.claims),
    acrValues: profile.acrValues,
    responseTypes: ['code'],
    pkce: { required: () => true },
    routes: {
      authorization: '/authorize',
      token: '/token',
      userinfo: '/userinfo',
      jwks: '/jwks',
      end_session: '/session/end',
    },
    features: {
      devInteractions: { enabled: false },
      // Neither FranceConnect nor ProConnect offers PAR or DPoP.
      pushedAuthorizationRequests: { enabled: false },
      dPoP: { enabled: false },
      userinfo: { enabled: true },
      jwtUserinfo: { enabled: true },
      claimsParameter: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource(ctx, form) {
          ctx.body = page(`Déconnexion — ${profile.title} (test)`, `
<h1>Déconnexion</h1>
<p>Voulez-vous vous déconnecter de ${html(profile.title)} (test) ?</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Se déconnecter</button>
<button type="submit" form="op.logoutForm">Rester connecté</button>`);
        },
        postLogoutSuccessSource(ctx) {
          ctx.body = page(`Déconnecté — ${profile.title} (test)`, '<h1>Vous êtes déconnecté.</h1>');
        },
      },
    },
    interactions: {
      url: (ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    // No consent screen: every requested scope/claim is granted to the client.
    async loadExistingGrant(ctx) {
      const { client, session } = ctx.oidc;
      const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
      let grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
      if (!grant) {
        grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      }
      const scope = [...ctx.oidc.requestParamOIDCScopes].join(' ');
      if (scope) grant.addOIDCScope(scope);
      const claims = [...ctx.oidc.requestParamClaims];
      if (claims.length) grant.addOIDCClaims(claims);
      await grant.save();
      return grant;
    },
    async findAccount(ctx, sub) {
      const user = usersBySub.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        async claims() {
          return { ...user.claims };
        },
      };
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page(`Erreur — ${profile.title} (test)`, `<h1>Erreur</h1>
${Object.entries(out).map(([k, v]) => `<p><strong>${html(k)}</strong> : ${html(v)}</p>`).join('\n')}`);
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
  });
  provider.proxy = false;

  // Test-only: replace the id_token of the NEXT successful token response.
  provider.use(async (ctx, next) => {
    await next();
    if (pendingTamper && ctx.method === 'POST' && ctx.path === '/token'
      && ctx.status === 200 && ctx.body && typeof ctx.body.id_token === 'string') {
      const tamper = pendingTamper;
      pendingTamper = undefined;
      ctx.body = { ...ctx.body, id_token: await tamperIdToken(ctx.body.id_token, tamper) };
      console.error(`[test-op] id_token tampered (${tamper.mode})`);
    }
  });

  provider.on('server_error', (ctx, err) => console.error('[test-op] server_error', err));
  return provider;
}

// -------------------------------------------------------------- interaction

function requestedAcrs(params) {
  const wanted = [];
  if (typeof params.acr_values === 'string') wanted.push(...params.acr_values.split(' ').filter(Boolean));
  if (typeof params.claims === 'string') {
    try {
      const acr = JSON.parse(params.claims)?.id_token?.acr;
      if (acr?.value) wanted.push(acr.value);
      if (Array.isArray(acr?.values)) wanted.push(...acr.values);
    } catch { /* ignore */ }
  }
  return [...new Set(wanted)].filter((a) => profile.acrValues.includes(a));
}

function loginPage(uid, params, error) {
  const acrs = requestedAcrs(params);
  const select = acrs.length > 1 ? `
<label for="acr">Niveau de garantie</label>
<select id="acr" name="acr">
${acrs.map((a) => `<option value="${html(a)}">${html(a)}</option>`).join('\n')}
</select>` : '';
  return page(`Connexion — ${profile.title} (test)`, `
<h1>Connexion à ${html(profile.title)} (test)</h1>
${error ? `<p class="erreur" role="alert">${html(error)}</p>` : ''}
<form method="post" action="/interaction/${html(uid)}/login">
<label for="login">Identifiant</label>
<input id="login" name="login" type="text" autocomplete="username" autofocus required>
${select}
<p><button type="submit">Se connecter</button></p>
</form>`);
}

async function readForm(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

async function readJson(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

async function interaction(provider, req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    send(res, 400, 'text/plain; charset=utf-8', 'interaction mismatch\n');
    return;
  }
  const { prompt, params, session } = details;

  if (prompt.name === 'consent') {
    // Normally skipped by loadExistingGrant; grant everything if reached.
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }

  if (action === undefined && req.method === 'GET') {
    send(res, 200, 'text/html; charset=utf-8', loginPage(uid, params));
    return;
  }
  if (action !== 'login' || req.method !== 'POST') {
    send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    return;
  }

  const form = await readForm(req);
  const login = (form.login || '').trim();
  if (login === 'cancel') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: "L'utilisateur a annulé la connexion",
    }, { mergeWithLastSubmission: false });
    return;
  }
  const user = usersByLogin.get(login);
  if (!user) {
    send(res, 200, 'text/html; charset=utf-8', loginPage(uid, params, 'Identifiant inconnu.'));
    return;
  }
  const acrs = requestedAcrs(params);
  const acr = acrs.includes(form.acr) ? form.acr : (acrs[0] || profile.defaultAcr);
  await provider.interactionFinished(req, res, {
    login: { accountId: user.claims.sub, acr, remember: false },
  }, { mergeWithLastSubmission: false });
}

// ------------------------------------------------------------- http server

let provider;
let providerCallback;

function json(res, status, obj) {
  send(res, status, 'application/json', `${JSON.stringify(obj)}\n`);
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://127.0.0.1');
    const path = url.pathname;

    if (path === '/__test/health' && req.method === 'GET') {
      json(res, 200, { status: 'ok', profile: config.profile, kid: signingKeys[0].kid });
      return;
    }
    if (path === '/__test/rotate' && req.method === 'POST') {
      const keepOld = (await readJson(req)).keep_old === true;
      const fresh = await newSigningJwk();
      signingKeys = keepOld ? [fresh, ...signingKeys] : [fresh];
      provider = buildProvider(issuer);
      providerCallback = provider.callback();
      console.error(`[test-op] signing key rotated to ${fresh.kid}`);
      json(res, 200, { kid: fresh.kid });
      return;
    }
    if (path === '/__test/tamper' && req.method === 'POST') {
      const body = await readJson(req);
      if (!TAMPER_MODES.has(body.mode)) {
        json(res, 400, { error: `mode must be one of ${[...TAMPER_MODES].join(', ')}` });
        return;
      }
      pendingTamper = { mode: body.mode, secret: body.secret === 'client_secret' ? 'client_secret' : 'public_key_pem' };
      json(res, 200, { armed: body.mode });
      return;
    }

    const m = /^\/interaction\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (m) {
      await interaction(provider, req, res, m[1], m[2]);
      return;
    }

    providerCallback(req, res);
  } catch (err) {
    console.error('[test-op] error', err);
    if (!res.headersSent) {
      const status = err.statusCode || err.status || 500;
      send(res, status, 'text/html; charset=utf-8', page('Erreur', `<h1>Erreur</h1><p>${html(err.error || err.message)}</p><p>${html(err.error_description || '')}</p>`));
    } else {
      res.end();
    }
  }
});

let issuer;

function shutdown() {
  server.close();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (!flags.has('--ignore-stdin')) {
  process.stdin.on('end', shutdown);
  process.stdin.on('close', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}

server.listen(0, '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  provider = buildProvider(issuer);
  providerCallback = provider.callback();
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
