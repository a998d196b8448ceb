/**
 * Wire-layer benchmarks: internet checksum throughput, and TCP parse+emit rate, each
 * beside `Buffer.copy` bandwidth measured in the same run (the cost of touching every byte
 * once, the floor any data path pays).
 */
import { checksumAdd, checksumFinish } from '../src/wire/checksum.js';
import { emitTcp, parseTcp, tcpBufferLen, TcpFlags, tcpRepr } from '../src/wire/tcp.js';
import { consume, gbps, measure } from './harness.js';

/** One named figure of a benchmark run. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** Ratio to the baseline, when the figure has one. */
  readonly ratio?: number;
  readonly baseline?: string;
}

function filled(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 131 + 17) & 0xff;
  return b;
}

/** Checksum throughput at two sizes, with `Buffer.copy` of the same size as the baseline. */
export function benchChecksum(budgetMs: number): Figure[] {
  const figures: Figure[] = [];
  for (const size of [1500, 65536]) {
    const src = filled(size);
    const dst = Buffer.allocUnsafe(size);
    const copy = gbps(measure(() => { src.copy(dst); consume(dst[size - 1]!); }, 1, budgetMs), size);
    const sum = gbps(measure(() => consume(checksumFinish(checksumAdd(0, src))), 1, budgetMs), size);
    figures.push({ name: `buffer_copy_${size}_gbps`, value: copy, unit: 'Gbit/s' });
    figures.push({ name: `checksum_${size}_gbps`, value: sum, unit: 'Gbit/s', ratio: sum / copy, baseline: `buffer_copy_${size}_gbps` });
  }
  return figures;
}

/**
 * TCP parse+emit: a full-sized data segment (1448 bytes of payload with the timestamps
 * option, as on an MTU-1500 path) and a pure ACK, each parsed with checksum verification
 * and emitted with the checksum filled — what the stack does once per segment in and out.
 * The baseline is `Buffer.copy` of the same segment bytes.
 */
export function benchTcp(budgetMs: number): Figure[] {
  const src = Uint8Array.of(10, 0, 0, 1);
  const dst = Uint8Array.of(10, 0, 0, 2);
  const figures: Figure[] = [];
  for (const [name, payloadLength] of [['data_1448', 1448], ['ack', 0]] as const) {
    const repr = tcpRepr({
      srcPort: 40000, dstPort: 80, seqNumber: 0x12345678, ackNumber: 0x9abcdef0, flags: TcpFlags.ACK | TcpFlags.PSH,
      window: 501, options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsVal: 1000, tsEcr: 2000 }],
      payload: filled(payloadLength),
    });
    const wire = new Uint8Array(tcpBufferLen(repr));
    emitTcp(repr, wire, 0, src, dst);
    const out = new Uint8Array(wire.length);
    const copyBytes = Buffer.from(wire);
    const copyOut = Buffer.alloc(wire.length);
    const copy = measure(() => { copyBytes.copy(copyOut); consume(copyOut[0]!); }, 1, budgetMs);
    const rate = measure(() => {
      const parsed = parseTcp(wire, src, dst);
      if (!parsed.ok) throw new Error(parsed.reason);
      consume(emitTcp(parsed.value, out, 0, src, dst));
    }, 1, budgetMs);
    figures.push({ name: `tcp_parse_emit_${name}_per_s`, value: rate.opsPerSecond, unit: 'seg/s', ratio: rate.opsPerSecond / copy.opsPerSecond, baseline: `buffer_copy_${name}_per_s` });
    figures.push({ name: `buffer_copy_${name}_per_s`, value: copy.opsPerSecond, unit: 'copy/s' });
    figures.push({ name: `tcp_parse_emit_${name}_gbps`, value: gbps(rate, wire.length), unit: 'Gbit/s' });
  }
  return figures;
}
