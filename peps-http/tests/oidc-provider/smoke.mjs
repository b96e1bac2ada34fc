// Smoke test of provider.mjs: `node smoke.mjs` exits 0 when every check passes.
// Plain HTTP only (node fetch, manual redirects, a tiny cookie jar).

import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import * as jose from 'jose';

const here = path.dirname(fileURLToPath(import.meta.url));
const REDIRECT = 'http://127.0.0.1:9/callback';
const POST_LOGOUT = 'http://127.0.0.1:9/logged-out';

let passed = 0;
let failed = 0;
function check(name, cond, extra = '') {
  if (cond) {
    passed += 1;
    console.log(`ok   ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name} ${extra}`);
  }
}

// ------------------------------------------------------------------ configs

const CONFIGS = {
  franceconnect: {
    profile: 'franceconnect',
    clients: [{
      client_id: 'peps-fc',
      client_secret: 'fc-secret-0123456789abcdef0123456789abcdef',
      redirect_uris: [REDIRECT],
      post_logout_redirect_uris: [POST_LOGOUT],
      token_endpoint_auth_method: 'client_secret_post',
    }],
    users: [{
      login: 'marie',
      claims: {
        given_name: 'Marie Louise', family_name: 'Dupont', birthdate: '1980-06-15', gender: 'female',
        birthplace: '75107', birthcountry: '99100', email: 'marie.dupont@example.org', preferred_username: 'Martin',
      },
    }],
  },
  proconnect: {
    profile: 'proconnect',
    clients: [{
      client_id: 'peps-pc',
      client_secret: 'pc-secret-0123456789abcdef0123456789abcdef',
      redirect_uris: [REDIRECT],
      post_logout_redirect_uris: [POST_LOGOUT],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    users: [{
      login: 'agent',
      claims: {
        sub: 'agent-sub-0001', email: 'agent@ville.example.fr', given_name: 'Jean', usual_name: 'Agent',
        uid: 'agent-uid-1', siret: '21750001600019', phone: '0123456789', idp_id: 'idp-test',
      },
    }],
  },
};

const PARAMS = {
  franceconnect: {
    alg: 'ES256',
    scope: 'openid given_name family_name birthdate gender birthplace birthcountry email preferred_username',
    extra: { acr_values: 'eidas1' },
    expectAcr: 'eidas1',
    login: 'marie',
    userinfoClaim: ['family_name', 'Dupont'],
  },
  proconnect: {
    alg: 'RS256',
    scope: 'openid email given_name usual_name uid siret phone idp_id',
    extra: { claims: JSON.stringify({ id_token: { acr: { essential: true, values: ['https://proconnect.gouv.fr/assurance/self-asserted'] } } }) },
    expectAcr: 'https://proconnect.gouv.fr/assurance/self-asserted',
    login: 'agent',
    userinfoClaim: ['siret', '21750001600019'],
  },
};

// ------------------------------------------------------------------ helpers

async function startProvider(cfg) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'peps-op-')), 'config.json');
  fs.writeFileSync(file, JSON.stringify(cfg));
  const child = spawn(process.execPath, [path.join(here, 'provider.mjs'), file], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const rl = createInterface({ input: child.stdout });
  const [line] = await Promise.race([
    once(rl, 'line'),
    once(child, 'exit').then(() => { throw new Error(`provider exited early:\n${stderr}`); }),
  ]);
  const extraLines = [];
  rl.on('line', (l) => extraLines.push(l));
  return { child, line, extraLines, stderr: () => stderr };
}

class Jar {
  cookies = new Map();
  store(res) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

// Request with the jar, following redirects on the OP only; stops at any URL
// that is not the issuer's (the RP callback need not listen).
async function go(jar, issuer, url, init = {}) {
  let method = init.method || 'GET';
  let body = init.body;
  let headers = init.headers || {};
  for (let i = 0; i < 20; i += 1) {
    const res = await fetch(url, {
      method, body, redirect: 'manual', headers: { ...headers, cookie: jar.header() },
    });
    jar.store(res);
    const loc = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && loc) {
      const next = new URL(loc, url).href;
      if (!next.startsWith(`${issuer}/`)) return { res, url: next, external: true };
      url = next;
      method = 'GET';
      body = undefined;
      headers = {};
      continue;
    }
    return { res, url, text: await res.text() };
  }
  throw new Error('too many redirects');
}

const form = (o) => new URLSearchParams(o).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

// Runs authorize -> interaction -> login; returns the callback URL or the page.
async function authorize(issuer, client, p, { login = p.login, extra = p.extra, acr } = {}) {
  const jar = new Jar();
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  const state = crypto.randomBytes(16).toString('hex');
  const nonce = crypto.randomBytes(16).toString('hex');
  const q = new URLSearchParams({
    client_id: client.client_id, redirect_uri: REDIRECT, response_type: 'code', scope: p.scope,
    state, nonce, code_challenge: challenge, code_challenge_method: 'S256', ...extra,
  });
  const first = await go(jar, issuer, `${issuer}/authorize?${q}`);
  const pageHtml = first.text || '';
  const action = /<form method="post" action="([^"]+)"/.exec(pageHtml)?.[1];
  const result = { jar, verifier, state, nonce, loginPage: pageHtml, loginPageUrl: first.url };
  if (!action) return result;
  const fields = { login };
  if (acr) fields.acr = acr;
  const after = await go(jar, issuer, new URL(action, issuer).href, { method: 'POST', body: form(fields), headers: FORM });
  result.after = after;
  if (after.external) result.callback = new URL(after.url);
  return result;
}

async function tokenRequest(issuer, client, code, verifier) {
  const params = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier };
  const headers = { ...FORM };
  if (client.token_endpoint_auth_method === 'client_secret_post') {
    Object.assign(params, { client_id: client.client_id, client_secret: client.client_secret });
  } else {
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64')}`;
  }
  const res = await fetch(`${issuer}/token`, { method: 'POST', headers, body: form(params) });
  return { status: res.status, body: await res.json() };
}

async function fullFlow(issuer, client, p, opts) {
  const a = await authorize(issuer, client, p, opts);
  if (!a.callback) throw new Error(`no callback; page:\n${a.after?.text || a.loginPage}`);
  const code = a.callback.searchParams.get('code');
  const tok = await tokenRequest(issuer, client, code, a.verifier);
  return { ...a, code, tok };
}

// ------------------------------------------------------------------- checks

async function runProfile(name) {
  console.log(`# profile ${name}`);
  const cfg = CONFIGS[name];
  const p = PARAMS[name];
  const client = cfg.clients[0];
  const op = await startProvider(cfg);
  try {
    const parsed = JSON.parse(op.line);
    const { issuer } = parsed;
    check('stdout line is {"issuer":"http://127.0.0.1:PORT"}',
      Object.keys(parsed).length === 1 && /^http:\/\/127\.0\.0\.1:\d+$/.test(issuer), op.line);

    const health = await fetch(`${issuer}/__test/health`);
    check('GET /__test/health is 200', health.status === 200);

    const disco = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
    check('discovery issuer', disco.issuer === issuer);
    check(`discovery id_token alg ${p.alg}`, JSON.stringify(disco.id_token_signing_alg_values_supported) === JSON.stringify([p.alg]));
    check('discovery end_session_endpoint', disco.end_session_endpoint === `${issuer}/session/end`);
    check('discovery acr_values_supported', disco.acr_values_supported.includes('eidas1'));
    const JWKS = jose.createRemoteJWKSet(new URL(disco.jwks_uri), { cacheMaxAge: 0, cooldownDuration: 0 });
    const verify = (jwt) => jose.jwtVerify(jwt, JWKS, { issuer, audience: client.client_id, algorithms: [p.alg] });

    // 1. full flow
    const f1 = await fullFlow(issuer, client, p);
    check('login page: lang fr, label Identifiant, button Se connecter',
      /<html lang="fr">/.test(f1.loginPage) && /<label for="login">Identifiant<\/label>/.test(f1.loginPage)
      && /<input id="login" name="login"/.test(f1.loginPage) && />Se connecter</.test(f1.loginPage));
    check('callback has code and state', f1.code && f1.callback.searchParams.get('state') === f1.state);
    check('token endpoint 200 with id_token', f1.tok.status === 200 && typeof f1.tok.body.id_token === 'string', JSON.stringify(f1.tok.body));
    const v1 = await verify(f1.tok.body.id_token);
    check(`id_token verifies against JWKS with ${p.alg}`, v1.protectedHeader.alg === p.alg);
    check('id_token nonce', v1.payload.nonce === f1.nonce);
    check(`id_token acr = ${p.expectAcr}`, v1.payload.acr === p.expectAcr, v1.payload.acr);
    console.log(`     id_token: ${JSON.stringify(v1.protectedHeader)} ${JSON.stringify(v1.payload)}`);
    const kid1 = v1.protectedHeader.kid;
    const sub1 = v1.payload.sub;

    const ui = await fetch(`${issuer}/userinfo`, { headers: { authorization: `Bearer ${f1.tok.body.access_token}` } });
    const uiType = ui.headers.get('content-type') || '';
    const uiJwt = await ui.text();
    check('userinfo is application/jwt', ui.status === 200 && uiType.startsWith('application/jwt'), `${ui.status} ${uiType}`);
    const uv = await verify(uiJwt);
    check(`userinfo JWT verifies (${p.alg}), same sub, claim ${p.userinfoClaim[0]}`,
      uv.protectedHeader.alg === p.alg && uv.payload.sub === sub1 && uv.payload[p.userinfoClaim[0]] === p.userinfoClaim[1],
      JSON.stringify(uv.payload));
    console.log(`     userinfo: ${JSON.stringify(uv.payload)}`);

    // 2. unknown login, cancel
    const bad = await authorize(issuer, client, p, { login: 'nobody' });
    check('unknown login: same form again with an error',
      !bad.callback && bad.after.res.status === 200 && /Identifiant inconnu/.test(bad.after.text) && /name="login"/.test(bad.after.text));
    const cancel = await authorize(issuer, client, p, { login: 'cancel' });
    check('login "cancel" -> callback error=access_denied', cancel.callback?.searchParams.get('error') === 'access_denied',
      cancel.callback?.href);

    // 3. several acr values -> select
    const several = name === 'franceconnect'
      ? { extra: { acr_values: 'eidas1 eidas2 eidas3' }, pick: 'eidas2' }
      : {
        extra: { claims: JSON.stringify({ id_token: { acr: { essential: true, values: ['eidas1', 'https://proconnect.gouv.fr/assurance/consistency-checked'] } } }) },
        pick: 'https://proconnect.gouv.fr/assurance/consistency-checked',
      };
    const fa = await fullFlow(issuer, client, p, { extra: several.extra, acr: several.pick });
    check('several acr values -> <select name="acr"> on the form', /<select id="acr" name="acr">/.test(fa.loginPage));
    const va = await verify(fa.tok.body.id_token);
    check(`acr chosen in the form is in the id_token (${several.pick})`, va.payload.acr === several.pick, va.payload.acr);

    // 4. rotate
    const rot = await (await fetch(`${issuer}/__test/rotate`, { method: 'POST' })).json();
    check('rotate returns a new kid', rot.kid && rot.kid !== kid1);
    const f2 = await fullFlow(issuer, client, p);
    const v2 = await verify(f2.tok.body.id_token);
    check('after rotate: id_token has the new kid and verifies', v2.protectedHeader.kid === rot.kid);
    check('after rotate: sub is stable', v2.payload.sub === sub1);
    const jwks2 = await (await fetch(disco.jwks_uri)).json();
    check('after rotate: JWKS serves only the new key', jwks2.keys.length === 1 && jwks2.keys[0].kid === rot.kid);

    // 5. tamper: every mode must be rejected by a correct RP
    for (const mode of ['aud', 'iss', 'nonce', 'exp', 'alg_none', 'unknown_key', 'hs256']) {
      const arm = await fetch(`${issuer}/__test/tamper`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode }),
      });
      check(`tamper ${mode}: armed`, arm.status === 200);
      const ft = await fullFlow(issuer, client, p);
      const jwt = ft.tok.body.id_token;
      const payload = jose.decodeJwt(jwt);
      const header = jose.decodeProtectedHeader(jwt);
      let err;
      try {
        const v = await verify(jwt);
        if (v.payload.nonce !== ft.nonce) err = new Error('nonce mismatch');
      } catch (e) {
        err = e;
      }
      const expected = {
        aud: () => payload.aud !== client.client_id && err?.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED',
        iss: () => payload.iss !== issuer && err?.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED',
        nonce: () => payload.nonce !== ft.nonce && err?.message === 'nonce mismatch',
        exp: () => payload.exp < Date.now() / 1000 - 3000 && err?.code === 'ERR_JWT_EXPIRED',
        alg_none: () => header.alg === 'none' && jwt.endsWith('.') && err,
        unknown_key: () => header.kid !== rot.kid && err?.code === 'ERR_JWKS_NO_MATCHING_KEY',
        hs256: () => header.alg === 'HS256' && err?.code === 'ERR_JOSE_ALG_NOT_ALLOWED',
      }[mode]();
      if (mode === 'hs256') {
        // The classic confusion attack: HMAC keyed with the public key PEM.
        const jwk = (await (await fetch(disco.jwks_uri)).json()).keys.find((k) => k.kid === header.kid);
        const pem = crypto.createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
        const ok = await jose.jwtVerify(jwt, Buffer.from(pem), { algorithms: ['HS256'] }).then(() => true, () => false);
        check('tamper hs256: HMAC key is the current public key SPKI PEM, header kid is the current kid', ok && header.kid === rot.kid);
      }
      check(`tamper ${mode}: defect present, verification rejects it (${err?.code || err?.message})`, expected,
        JSON.stringify({ header, payload }));
      const ft2 = await fullFlow(issuer, client, p);
      await verify(ft2.tok.body.id_token).then(
        () => check(`tamper ${mode}: only the next token was altered`, true),
        (e) => check(`tamper ${mode}: only the next token was altered`, false, e.message),
      );
    }

    // 5b. rotate keeping the old key published
    const rot2 = await (await fetch(`${issuer}/__test/rotate`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keep_old: true }),
    })).json();
    const jwks3 = await (await fetch(disco.jwks_uri)).json();
    check('rotate {"keep_old":true}: JWKS has new then old key',
      jwks3.keys.map((k) => k.kid).join(',') === `${rot2.kid},${rot.kid}`, JSON.stringify(jwks3.keys.map((k) => k.kid)));
    const f3 = await fullFlow(issuer, client, p);
    check('rotate {"keep_old":true}: new key signs', (await verify(f3.tok.body.id_token)).protectedHeader.kid === rot2.kid);
    check('rotate {"keep_old":true}: token signed before rotation still verifies',
      await verify(f2.tok.body.id_token).then(() => true, () => false));

    // 6. RP-initiated logout
    const lo = await fullFlow(issuer, client, p);
    const lq = new URLSearchParams({ id_token_hint: lo.tok.body.id_token, post_logout_redirect_uri: POST_LOGOUT, state: 'bye' });
    const logoutPage = await go(lo.jar, issuer, `${issuer}/session/end?${lq}`);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(logoutPage.text || '')?.[1];
    check('end_session shows a confirmation form', logoutPage.res.status === 200 && xsrf && /Se déconnecter/.test(logoutPage.text));
    const done = await go(lo.jar, issuer, `${issuer}/session/end/confirm`, { method: 'POST', headers: FORM, body: form({ xsrf, logout: 'yes' }) });
    check('logout confirm redirects to post_logout_redirect_uri with state', done.external && done.url === `${POST_LOGOUT}?state=bye`, done.url);

    check('nothing else printed on stdout', op.extraLines.length === 0, JSON.stringify(op.extraLines));

    // 7. exits when stdin closes
    const exited = once(op.child, 'exit');
    op.child.stdin.end();
    const timer = setTimeout(() => op.child.kill('SIGKILL'), 5000);
    const [code, sig] = await exited;
    clearTimeout(timer);
    check('exits when stdin closes', code === 0 && sig === null, `${code} ${sig}`);
  } finally {
    if (op.child.exitCode === null && op.child.signalCode === null) op.child.kill('SIGKILL');
  }
}

async function sigtermCheck() {
  const op = await startProvider(CONFIGS.franceconnect);
  const exited = once(op.child, 'exit');
  op.child.kill('SIGTERM');
  const timer = setTimeout(() => op.child.kill('SIGKILL'), 5000);
  const [code] = await exited;
  clearTimeout(timer);
  check('exits on SIGTERM', code === 0, String(code));
}

try {
  await runProfile('franceconnect');
  await runProfile('proconnect');
  await sigtermCheck();
} catch (e) {
  failed += 1;
  console.log(`FAIL exception: ${e.stack}`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
