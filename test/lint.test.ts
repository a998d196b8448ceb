/**
 * The layering rule of DESIGN.md is enforced by eslint.config.js; these tests make sure it
 * keeps biting: each forbidden import or call below must be reported, and allowed ones not.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

const root = new URL('../../', import.meta.url).pathname;
const eslint = new ESLint({ cwd: root });

async function ruleIds(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('layering lint', () => {
  const sansIoViolations: Array<[string, string]> = [
    ['a clock', 'export const t = Date.now();'],
    ['a Date', 'export const t = new Date();'],
    ['randomness', 'export const r = Math.random();'],
    ['a timer', 'setTimeout(() => undefined, 1);'],
    ['node:fs', "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;"],
    ['crypto', 'export const c = crypto.getRandomValues(new Uint8Array(4));'],
    ['process', 'export const e = process.env;'],
  ];
  for (const folder of ['wire', 'core']) {
    for (const [what, code] of sansIoViolations) {
      test(`src/${folder} may not use ${what}`, async () => {
        assert.ok((await ruleIds(`src/${folder}/tcp/example.ts`, code)).length > 0);
      });
    }
  }

  const directions: Array<[string, string, boolean]> = [
    ['src/wire/x.ts', '../core/host.js', false],
    ['src/wire/x.ts', '../storage/ring.js', false],
    ['src/core/tcp/x.ts', '../../api/net.js', false],
    ['src/core/tcp/x.ts', '../../wire/tcp.js', true],
    ['src/api/x.ts', '../drivers/tun/tun.js', false],
    ['src/drivers/x.ts', '../tools/scan.js', false],
    ['src/tools/x.ts', '../cli/main.js', false],
    ['src/tools/x.ts', '../drivers/pcap/reader.js', true],
    ['src/cli/x.ts', '../tools/decode/index.js', true],
    ['src/storage/x.ts', '../time/instant.js', true],
  ];
  for (const [file, target, allowed] of directions) {
    test(`${file} ${allowed ? 'may' : 'may not'} import ${target}`, async () => {
      const ids = await ruleIds(file, `import { x } from '${target}';\nexport const y = x;`);
      assert.equal(ids.includes('no-restricted-imports'), !allowed, ids.join(', '));
    });
  }

  test('drivers may use node:*, clocks and timers', async () => {
    const ids = await ruleIds('src/drivers/x.ts', "import { readFileSync } from 'node:fs';\nexport const f = [readFileSync, Date.now(), setTimeout];");
    assert.deepEqual(ids, []);
  });
});
