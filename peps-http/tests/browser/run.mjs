// Drives Debian's headless Chromium over PEPS's pages (started by tests/http/browser.rs):
// axe-core with the WCAG 2.1 A and AA rules on every page in six languages, the keyboard
// path from the home page to an offer's phone number, search and sign-in with JavaScript
// off, no horizontal scrolling at 320 CSS px, and the printable plan printed to PDF in Arabic
// and Persian, its text read back with pdftotext. Prints a JSON report; exits 1 on failure.
//
//   node run.mjs <base-url> <offer-id> <login> <password> [screenshot-dir]
//   environment: PEPS_PRINT_PATH, PEPS_PRINT_TOKEN (bearer), PEPS_PRINT_EXPECT (one line each),
//   PEPS_PERSON_LOGIN (a person with a plan, same password), PEPS_PLAN_ID (that plan)
import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";

const require = createRequire(import.meta.url);
const { createHmac } = require("node:crypto");
const axePath = require.resolve("axe-core/axe.min.js");
const [base, offerId, login, password, shots] = process.argv.slice(2);
const LANGS = ["fr", "fr-x-falc", "en", "ar", "uk", "ps"];
const failures = [];
const fail = (what) => failures.push(what);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
  // launch() runs Chromium on a fresh temporary profile (its own --user-data-dir), removed after.
});

function pages(lang) {
  return [
    `/${lang}/`,
    `/${lang}/search?q=&commune=Auxerre&radius=10`,
    `/${lang}/search?commune=Nulle-part`,
    // Words in another language than the page's, found through a topic, and a word no offer
    // holds: the page says both.
    `/${lang}/search?q=${encodeURIComponent("أكل zqxw")}`,
    `/${lang}/offers/${offerId}`,
    `/${lang}/sign-in`,
    `/${lang}/activate`,
    `/${lang}/languages?back=/`,
    `/${lang}/accessibility`,
    `/${lang}/legal`,
  ];
}

// axe: injected past the page's CSP (bypassCSP), which the pages themselves never need.
const axeContext = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
let checked = 0;
async function axeCheck(page, label) {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  );
  for (const v of result.violations) {
    fail(`axe ${label}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
  }
  checked++;
}

for (const lang of LANGS) {
  for (const path of pages(lang)) {
    const page = await axeContext.newPage();
    const resp = await page.goto(base + path);
    if (!resp || resp.status() >= 500) fail(`${path}: status ${resp && resp.status()}`);
    await axeCheck(page, path);
    await page.close();
  }
}
await axeContext.close();


// Keyboard only, from the home page to an offer's phone number.
const kb = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await kb.newPage();
await page.goto(`${base}/fr/`);
const focused = () => page.evaluate(() => {
  const el = document.activeElement;
  const style = el ? getComputedStyle(el) : null;
  return el ? { tag: el.tagName, cls: el.className, href: el.getAttribute("href") || "", id: el.id,
    outline: style.outlineStyle, shadow: style.boxShadow } : null;
});
async function tabUntil(pred, what) {
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press("Tab");
    const f = await focused();
    if (f && f.tag !== "BODY" && f.outline === "none" && f.shadow === "none") fail(`keyboard: no visible focus on ${f.tag}.${f.cls} ${f.href}`);
    if (f && pred(f)) return f;
  }
  fail(`keyboard: never reached ${what}`);
  return null;
}
await page.keyboard.press("Tab");
const first = await focused();
if (!first || first.cls !== "skip") fail(`keyboard: the first stop is ${JSON.stringify(first)}, not the skip link`);
const second = await tabUntil(() => true, "the language switcher");
if (!second || second.cls !== "language") fail(`keyboard: the second stop is ${JSON.stringify(second)}, not the language switcher`);
if (await tabUntil((f) => f.href.includes("/fr/search?theme="), "a theme")) {
  await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
  if (await tabUntil((f) => f.href.includes("/fr/offers/"), "an offer")) {
    await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
    const phone = await tabUntil((f) => f.cls === "phone", "the phone number");
    if (phone && !phone.href.startsWith("tel:")) fail(`keyboard: phone link is ${phone.href}`);
  }
}
await kb.close();

// JavaScript off: search from the home page and sign in.
const nojs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 360, height: 780 } });
const p2 = await nojs.newPage();
await p2.goto(`${base}/fr/`);
await p2.fill("#q", "alimentaire");
await Promise.all([p2.waitForNavigation(), p2.click("form.search button[type=submit]")]);
if (!p2.url().includes("/fr/search?q=alimentaire")) fail(`no-JS search landed on ${p2.url()}`);
if (!(await p2.content()).includes("/fr/offers/")) fail("no-JS search found nothing");
await p2.goto(`${base}/fr/sign-in`);
await p2.fill("#login", login);
await p2.fill("#password", "not the password");
await Promise.all([p2.waitForNavigation(), p2.click("main button[type=submit]")]);
if ((await p2.locator(".error-summary a[href='#login']").count()) !== 1) fail("no-JS sign-in: no error summary linked to the field");
await p2.fill("#password", password);
await Promise.all([p2.waitForNavigation(), p2.click("main button[type=submit]")]);
if (!p2.url().endsWith("/fr/account")) fail(`no-JS sign-in landed on ${p2.url()}`);
await nojs.close();

// Signed in as a member: the account page and the second factor's set-up (QR code, key,
// code field), in French and Arabic; then the set-up is finished with a code computed from
// the key shown, as an authenticator app would, and the recovery codes page is checked too.
// The server's clock is the test's (a fixed Monday morning), given in PEPS_CLOCK_MS.
function totp(base32Key, at = Number(process.env.PEPS_CLOCK_MS || Date.now())) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of base32Key.replace(/\s/g, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30000)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, "0");
}
const signedIn = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
const member = await signedIn.newPage();
await member.goto(`${base}/fr/sign-in`);
await member.fill("#login", login);
await member.fill("#password", password);
await Promise.all([member.waitForNavigation(), member.click("main button[type=submit]")]);
for (const lang of ["fr", "ar"]) {
  for (const path of [`/${lang}/account`, `/${lang}/second-factor`]) {
    const resp = await member.goto(base + path);
    if (!resp || resp.status() !== 200) fail(`${path}: status ${resp && resp.status()}`);
    await axeCheck(member, path);
  }
}
if (shots) {
  for (const [name, width, height] of [["desktop", 1280, 900], ["phone", 360, 780]]) {
    await member.setViewportSize({ width, height });
    for (const lang of ["fr", "ar"]) {
      await member.goto(`${base}/${lang}/second-factor`);
      await member.screenshot({ path: join(shots, `second-factor-${lang}-${name}.png`), fullPage: true });
    }
  }
  await member.setViewportSize({ width: 1280, height: 900 });
}
if ((await member.locator(".qr svg").count()) !== 1) fail("second-factor set-up: no QR code");
const key = await member.locator("code.secret").textContent();
await member.fill("#code", totp(key || ""));
await Promise.all([member.waitForNavigation(), member.click("main form button[type=submit]")]);
const recovery = await member.locator("ol.recovery-codes li").count();
if (recovery !== 10) fail(`recovery codes page shows ${recovery} codes`);
await axeCheck(member, "/ar/second-factor (recovery codes)");
if (shots) {
  await member.setViewportSize({ width: 360, height: 780 });
  await member.screenshot({ path: join(shots, "recovery-codes-ar-phone.png"), fullPage: true });
}
await signedIn.close();

// A person signs in and lands on their plan; the plan page in French and Arabic at desktop
// and phone widths, and the printable sheet, under axe; nothing scrolls sideways.
if (process.env.PEPS_PERSON_LOGIN) {
  const ctx = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const person = await ctx.newPage();
  await person.goto(`${base}/fr/sign-in`);
  await person.fill("#login", process.env.PEPS_PERSON_LOGIN);
  await person.fill("#password", password);
  await Promise.all([person.waitForNavigation(), person.click("main button[type=submit]")]);
  if (!person.url().endsWith("/fr/plans")) fail(`the person's sign-in landed on ${person.url()}`);
  for (const [name, width, height] of [["desktop", 1280, 900], ["phone", 360, 780]]) {
    await person.setViewportSize({ width, height });
    for (const lang of ["fr", "ar"]) {
      const path = `/${lang}/plans`;
      const resp = await person.goto(base + path);
      if (!resp || resp.status() !== 200) fail(`${path}: status ${resp && resp.status()}`);
      const steps = await person.locator("ol.steps > li").count();
      if (steps !== 2) fail(`${path}: ${steps} steps shown, not 2`);
      if ((await person.locator(`a[aria-current=page][href='${path}']`).count()) !== 1) fail(`${path}: "my plan" is not marked as the current page`);
      const [scroll, client] = await person.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      if (scroll > client) fail(`${name}: ${path} scrolls sideways (${scroll} > ${client})`);
      if (shots) await person.screenshot({ path: join(shots, `plans-${lang}-${name}.png`), fullPage: true });
      await axeCheck(person, `${path} (${name})`);
    }
  }
  await person.setViewportSize({ width: 1280, height: 900 });
  for (const lang of ["fr", "ar"]) {
    const path = `/${lang}/plans/${process.env.PEPS_PLAN_ID}/print`;
    const resp = await person.goto(base + path);
    if (!resp || resp.status() !== 200) fail(`${path}: status ${resp && resp.status()}`);
    if (shots) await person.screenshot({ path: join(shots, `plan-print-${lang}.png`), fullPage: true });
    await axeCheck(person, path);
  }
  await ctx.close();
}

// An admin's outbox page (a parked text message) and a person's text-message choice, in
// French and Arabic at desktop and phone widths, under axe; then each form is sent (plain
// HTML forms: the pages carry no script of their own) and the page it lands on is checked.
async function signedInAs(token) {
  // Scripts on only so that axe can run in the page.
  const ctx = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  await ctx.addCookies([{ name: "peps_session", value: token, url: base }]);
  return [ctx, await ctx.newPage()];
}
async function widths(page, paths, check, shotName) {
  for (const [name, width, height] of [["desktop", 1280, 900], ["phone", 360, 780]]) {
    await page.setViewportSize({ width, height });
    for (const lang of ["fr", "ar"]) {
      const path = paths(lang);
      const resp = await page.goto(base + path);
      if (!resp || resp.status() !== 200) fail(`${path}: status ${resp && resp.status()}`);
      await check(page, path);
      const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      if (scroll > client) fail(`${name}: ${path} scrolls sideways (${scroll} > ${client})`);
      if (shots) await page.screenshot({ path: join(shots, `${shotName}-${lang}-${name}.png`), fullPage: true });
      await axeCheck(page, `${path} (${name})`);
    }
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}
if (process.env.PEPS_ADMIN_TOKEN) {
  const [ctx, admin] = await signedInAs(process.env.PEPS_ADMIN_TOKEN);
  await widths(admin, (lang) => `/${lang}/admin/outbox`, async (page, path) => {
    const listed = await page.locator("section.request").count();
    if (listed !== 1) fail(`${path}: ${listed} parked messages shown, not 1`);
  }, "outbox");
  await admin.goto(`${base}/fr/admin/outbox`);
  await Promise.all([admin.waitForNavigation(), admin.click("section.request form button.button:not(.secondary)")]);
  if (!admin.url().endsWith("/fr/admin/outbox?done=retried")) fail(`retry landed on ${admin.url()}`);
  if ((await admin.locator("p.notice[role=status]").count()) !== 1) fail("retry: no notice said it was done");
  await axeCheck(admin, "/fr/admin/outbox?done=retried");
  await ctx.close();
}
if (process.env.PEPS_SMS_TOKEN) {
  const [ctx, person] = await signedInAs(process.env.PEPS_SMS_TOKEN);
  await widths(person, (lang) => `/${lang}/account`, async (page, path) => {
    if ((await page.locator("#sms-title").count()) !== 1) fail(`${path}: no text-message section`);
  }, "account-sms");
  await person.goto(`${base}/ar/account`);
  await Promise.all([person.waitForNavigation(), person.click("section[aria-labelledby=sms-title] button")]);
  if (!person.url().endsWith("/ar/account?sms=stopped")) fail(`stopping text messages landed on ${person.url()}`);
  if (shots) await person.screenshot({ path: join(shots, "account-sms-stopped-ar-desktop.png"), fullPage: true });
  await axeCheck(person, "/ar/account?sms=stopped");
  await ctx.close();
}

// 320 CSS px (a 640 px window at 200 % zoom): nothing scrolls sideways.
const narrow = await browser.newContext({ viewport: { width: 320, height: 640 }, deviceScaleFactor: 2 });
for (const lang of ["fr", "ar"]) {
  for (const path of pages(lang)) {
    const p = await narrow.newPage();
    await p.goto(base + path);
    const [scroll, client] = await p.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    if (scroll > client) fail(`320px: ${path} scrolls sideways (${scroll} > ${client})`);
    await p.close();
  }
}
await narrow.close();

// The printable plan on paper in Arabic and Persian. pdftotext gives each line in visual
// order, so a phone number laid out backwards ("42 42 00 86 03") or a street number pushed to
// the end of its address shows up as such.
if (process.env.PEPS_PRINT_PATH) {
  const expected = (process.env.PEPS_PRINT_EXPECT || "").split("\n").filter(Boolean);
  const dir = mkdtempSync(join(tmpdir(), "peps-print-"));
  const ctx = await browser.newContext({
    extraHTTPHeaders: { authorization: `Bearer ${process.env.PEPS_PRINT_TOKEN}` },
  });
  for (const lang of ["ar", "fa"]) {
    const p = await ctx.newPage();
    const resp = await p.goto(`${base}${process.env.PEPS_PRINT_PATH}?lang=${lang}`);
    if (!resp || resp.status() !== 200) {
      fail(`print ${lang}: status ${resp && resp.status()}`);
    } else {
      const pdf = join(dir, `plan-${lang}.pdf`);
      await p.pdf({ path: pdf, format: "A4" });
      const text = execFileSync("pdftotext", [pdf, "-"], { encoding: "utf8" });
      for (const want of expected) {
        if (!text.includes(want)) fail(`print ${lang}: "${want}" is not in the PDF's text, which reads:\n${text}`);
      }
    }
    await p.close();
  }
  await ctx.close();
}

// Screenshots for docs/screenshots/ (desktop 1280 px and phone 360 px, fr and ar).
if (shots) {
  for (const [name, width, height] of [["desktop", 1280, 900], ["phone", 360, 780]]) {
    const ctx = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
    for (const lang of ["fr", "ar"]) {
      for (const [label, path] of [["home", `/${lang}/`], ["results", `/${lang}/search?q=&commune=Auxerre&radius=10`], ["words", `/${lang}/search?q=${encodeURIComponent("أكل zqxw")}`], ["offer", `/${lang}/offers/${offerId}`], ["activate", `/${lang}/activate`]]) {
        const p = await ctx.newPage();
        await p.goto(base + path);
        await p.screenshot({ path: join(shots, `${label}-${lang}-${name}.png`), fullPage: true });
        await p.close();
      }
    }
    await ctx.close();
  }
}

await browser.close();
console.log(JSON.stringify({ pages_checked_with_axe: checked, failures }, null, 2));
process.exit(failures.length ? 1 : 0);
