/**
 * The scoreboard's storage pool: an ended connection's storage (`release`) serves the next
 * connection's first send, and no two live boards ever share one.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LOST, Scoreboard } from '../../../src/core/tcp/scoreboard.js';

/** The entries of a board as [start, end, sentAt, flags] rows. */
function rows(b: Scoreboard): number[][] {
  return Array.from({ length: b.count }, (_, i) => [b.start(i), b.end(i), b.sentAt(i), b.flags(i)]);
}

describe('Scoreboard storage pool', () => {
  test('a released board is empty; a new board\'s first send starts clean on pooled storage', () => {
    const old = new Scoreboard();
    for (let i = 0; i < 5; i++) old.sent(i * 100, (i + 1) * 100, i);
    old.markLost(2);
    old.release();
    assert.equal(old.count, 0);
    assert.equal(old.first, undefined);
    assert.equal(old.lostBytes, 0);
    const next = new Scoreboard();
    next.sent(7000, 7100, 50);
    assert.deepEqual(rows(next), [[7000, 7100, 50, 0]], 'no entry or mark of the old board shows');
  });

  test('releasing twice, or a board that never sent, gives nothing twice: live boards never share storage', () => {
    const a = new Scoreboard();
    a.sent(0, 100, 0);
    a.release();
    a.release();
    new Scoreboard().release();
    const boards = Array.from({ length: 4 }, () => new Scoreboard());
    boards.forEach((b, k) => { for (let i = 0; i < 3; i++) b.sent(k * 1000 + i * 10, k * 1000 + i * 10 + 10, k); });
    boards[1]!.markLost(0);
    boards.forEach((b, k) => {
      assert.deepEqual(rows(b), [0, 1, 2].map((i) => [k * 1000 + i * 10, k * 1000 + i * 10 + 10, k, k === 1 && i === 0 ? LOST : 0]));
    });
  });

  test('a board released after growing past the initial capacity still works when used again', () => {
    const big = new Scoreboard();
    for (let i = 0; i < 40; i++) big.sent(i * 10, i * 10 + 10, i);
    big.release();
    big.sent(5, 15, 1);
    assert.deepEqual(rows(big), [[5, 15, 1, 0]]);
  });
});
