/**
 * fast-check arbitraries shared by the parser tests: random bytes of every length up to a
 * bound, and mutations of real packets. Random bytes rarely get past a parser's first length
 * check; a real packet with a few bytes flipped, some appended and the tail cut off reaches
 * every branch behind it.
 */
import fc from 'fast-check';

/**
 * Random bytes, `minLength` to `maxLength` of them, the whole range drawn. A plain
 * `fc.uint8Array({ maxLength })` is held by fast-check's default size to about
 * 2 * minLength + 10 bytes whatever `maxLength` says: shorter than the IPv4, IPv6 or pcap
 * header, so a "parse never throws on random bytes" property would only ever see
 * 'truncated'. `size: 'max'` lifts that cap. For parser fuzz, pick `maxLength` a little
 * past the largest header (options included) that the parser walks.
 */
export function bytesUpTo(maxLength: number, minLength = 0): fc.Arbitrary<Uint8Array<ArrayBuffer>> {
  return fc.uint8Array({ minLength, maxLength, size: 'max' });
}

/** One mutation of one of `count` seed packets. */
export interface Mutation {
  /** Which seed to mutate. */
  readonly index: number;
  /** The mutated copy of `seed` (the seed itself is not changed). */
  apply(seed: Uint8Array): Uint8Array;
}

/**
 * Mutations of a seed chosen among `count`: up to 4 bytes XOR-flipped, up to 8 appended, then
 * a random cut. Both bounds are below fast-check's default size cap (about 10), so the whole
 * range is drawn without `size: 'max'`; the positions and the cut are `fc.nat()`, which size
 * does not bound.
 */
export function mutationOf(count: number): fc.Arbitrary<Mutation> {
  return fc.record({
    index: fc.nat(count - 1),
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }),
    cut: fc.nat(),
    extra: fc.uint8Array({ maxLength: 8 }),
  }).map(({ index, flips, cut, extra }) => ({
    index,
    apply(seed: Uint8Array): Uint8Array {
      const b = new Uint8Array(seed.length + extra.length);
      b.set(seed);
      b.set(extra, seed.length);
      if (b.length > 0) for (const [at, x] of flips) b[at % b.length]! ^= x;
      return b.subarray(0, cut % (b.length + 1));
    },
  }));
}
