// Signing in with FranceConnect in a real headless Chromium, JavaScript off: PEPS's sign-in
// page, the local OpenID provider's login form (tests/oidc-provider), back to PEPS; the first
// time the person links the identity with their password, the second time FranceConnect alone
// opens their plan in their language (Arabic); signing out offers the provider's logout.
// axe-core (WCAG 2.1 A and AA) on every PEPS page met on the way. Started by
// tests/http/browser.rs. Prints a JSON report; exits 1 on failure.
//
//   node run-oidc.mjs <base-url> <person-login> <password> <franceconnect-login>
//                     <proconnect-login> <unmatched-proconnect-login> <admin-proconnect-login>
//                     <unmatched-account-login> [screenshot-dir]
import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const axePath = require.resolve("axe-core/axe.min.js");
const [base, login, password, providerLogin, agentLogin, waitingLogin, adminLogin, waitingAccount, shots] =
  process.argv.slice(2);
const failures = [];
const fail = (what) => failures.push(what);
let checked = 0;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"],
});

// axe needs script: a separate context with it on checks the pages the no-JS path met.
const axeContext = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
async function axeCheck(url, label) {
  const page = await axeContext.newPage();
  await page.goto(url);
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  );
  for (const v of result.violations) {
    fail(`axe ${label}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
  }
  checked++;
  await page.close();
}

// A page met with JavaScript off, checked as it was served (its HTML, on PEPS's origin).
async function axeHtml(html, label) {
  const page = await axeContext.newPage();
  await page.goto(`${base}/fr/legal`);
  await page.setContent(html, { waitUntil: "load" });
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  );
  for (const v of result.violations) {
    fail(`axe ${label}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
  }
  checked++;
  await page.close();
}

async function throughProvider(page, key = "franceconnect", who = providerLogin) {
  await page.goto(`${base}/fr/sign-in`);
  const link = page.locator(`a[href='/fr/sign-in/with/${key}']`);
  if ((await link.count()) !== 1) fail(`no ${key} link on the sign-in page`);
  await Promise.all([page.waitForNavigation(), link.click()]);
  await page.fill("#login", who);
  await Promise.all([page.waitForNavigation({ url: (u) => u.toString().startsWith(base) }), page.click("button[type=submit]")]);
  await page.waitForLoadState();
}

const phone = { width: 360, height: 780 };
// French first (the browser asks for French), then the person's own language once signed in.
const noScript = { javaScriptEnabled: false, viewport: phone, locale: "fr-FR" };
let ctx = await browser.newContext(noScript);
let page = await ctx.newPage();

// The sign-in page with its provider link, under axe.
await axeCheck(`${base}/fr/sign-in`, "/fr/sign-in (providers)");
await axeCheck(`${base}/ar/sign-in`, "/ar/sign-in (providers)");

// First time: recognised by FranceConnect, linked with the password.
await throughProvider(page);
const linkPage = await page.content();
if (!linkPage.includes("FranceConnect vous a bien reconnu")) fail(`first FranceConnect sign-in: no link notice at ${page.url()}`);
await axeHtml(linkPage, "sign-in page with the link notice");
if (shots) await page.screenshot({ path: join(shots, "franceconnect-link-fr-phone.png"), fullPage: true });
await page.fill("#login", login);
await page.fill("#password", password);
await Promise.all([page.waitForNavigation(), page.click("main form[action='/fr/sign-in'] button[type=submit]")]);
if (!page.url().includes("/fr/account?linked=franceconnect")) fail(`linking landed on ${page.url()}`);
await Promise.all([page.waitForNavigation(), page.click("form[action='/fr/sign-out'] button[type=submit]")]);
await ctx.close();
ctx = await browser.newContext(noScript);
page = await ctx.newPage();

// Then FranceConnect alone: on her plan, in her language.
await throughProvider(page);
if (!page.url().endsWith("/ar/plans")) fail(`FranceConnect sign-in landed on ${page.url()}`);
const html = await page.content();
if (!html.includes('lang="ar"') || !html.includes('dir="rtl"')) fail("the plan page is not in Arabic, right to left");
const steps = await page.locator("ol.steps > li").count();
if (steps !== 2) fail(`FranceConnect sign-in: the plan shows ${steps} steps, not 2`);
await axeHtml(html, "the plan, after FranceConnect");
if (shots) await page.screenshot({ path: join(shots, "franceconnect-plan-ar-phone.png"), fullPage: true });
// Signing out, from her account page.
await page.goto(`${base}/ar/account`);
await Promise.all([page.waitForNavigation(), page.click("form[action='/ar/sign-out'] button[type=submit]")]);
await axeHtml(await page.content(), "signed out, with the provider's logout");
const logout = page.locator("main a.button");
if ((await logout.count()) !== 1) fail("signed out: no link to the provider's logout");
if (shots) await page.screenshot({ path: join(shots, "signed-out-ar-phone.png"), fullPage: true });
await Promise.all([page.waitForNavigation(), logout.click()]);
if (!(await page.content()).includes("Déconnexion")) fail(`provider logout page not reached: ${page.url()}`);

await ctx.close();

// A worker through ProConnect: linked on the spot, on their account page at once.
ctx = await browser.newContext(noScript);
page = await ctx.newPage();
await throughProvider(page, "proconnect", agentLogin);
if (!page.url().endsWith("/fr/account")) fail(`ProConnect sign-in landed on ${page.url()}`);
if (!(await page.content()).includes("ProConnect")) fail("the worker's account does not show the ProConnect link");
await ctx.close();

// A worker no account matches: told an admin was asked.
ctx = await browser.newContext(noScript);
page = await ctx.newPage();
await throughProvider(page, "proconnect", waitingLogin);
const waiting = await page.content();
if (!waiting.includes("Un administrateur de PEPS a reçu votre demande")) fail(`unmatched ProConnect sign-in: no notice at ${page.url()}`);
await axeHtml(waiting, "sign-in page, request sent to an admin");
await ctx.close();

// The admin (strong through ProConnect) links her from the queue, after a wrong login.
ctx = await browser.newContext(noScript);
page = await ctx.newPage();
await throughProvider(page, "proconnect", adminLogin);
if (!page.url().endsWith("/fr/account")) fail(`admin ProConnect sign-in landed on ${page.url()}`);
const queueLink = page.locator("a[href='/fr/admin/sign-in-requests']");
if ((await queueLink.count()) !== 1) fail("the admin's account page has no link to the sign-in requests");
await Promise.all([page.waitForNavigation(), queueLink.click()]);
await axeHtml(await page.content(), "/fr/admin/sign-in-requests");
await page.goto(`${base}/ar/admin/sign-in-requests`);
await axeHtml(await page.content(), "/ar/admin/sign-in-requests");
if (shots) await page.screenshot({ path: join(shots, "sign-in-requests-ar-phone.png"), fullPage: true });
await page.goto(`${base}/fr/admin/sign-in-requests`);
await page.fill("main input[name=login]", "personne@nulle-part.example.org");
await Promise.all([page.waitForNavigation(), page.click("main form[action$='/approve'] button[type=submit]")]);
const refused = await page.content();
if (!refused.includes("Aucun compte actif")) fail("a wrong login on the queue: no message beside the field");
await axeHtml(refused, "/fr/admin/sign-in-requests, a wrong login");
if (shots) await page.screenshot({ path: join(shots, "sign-in-requests-error-fr-phone.png"), fullPage: true });
await page.fill("main input[name=login]", waitingAccount);
await Promise.all([page.waitForNavigation(), page.click("main form[action$='/approve'] button[type=submit]")]);
if (!page.url().endsWith("?done=approved")) fail(`approving landed on ${page.url()}`);
await ctx.close();

// Her next ProConnect sign-in opens her account.
ctx = await browser.newContext(noScript);
page = await ctx.newPage();
await throughProvider(page, "proconnect", waitingLogin);
if (!page.url().endsWith("/fr/account")) fail(`approved ProConnect sign-in landed on ${page.url()}`);
if (!(await page.content()).includes(waitingAccount)) fail("the approved worker's account is not hers");
await ctx.close();
await axeContext.close();
await browser.close();
console.log(JSON.stringify({ pages_checked_with_axe: checked, failures }, null, 2));
process.exit(failures.length ? 1 : 0);
