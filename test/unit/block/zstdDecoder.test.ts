// The built-in zstd decoder against frames the reference `zstd` tool writes (several levels,
// single and multi-block, with and without checksums), and its behaviour on corrupted frames.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { decodeZstdFrame, ZstdError, zstdFrameLength } from '../../../emulator/src/block/zstdDecoder';
import { sourceContent } from '../../fixtures/block/images';

function zstd(data: Buffer, args: string[]): Buffer {
  return execFileSync('zstd', ['-q', '-c', ...args], { input: data, maxBuffer: 64 << 20 });
}

describe('block: zstd decoder', () => {
  const mixed = sourceContent(1 << 20, 5);
  const inputs: [string, Buffer][] = [
    ['mixed 1 MiB', mixed],
    ['64 KiB text', mixed.subarray(256 << 10, 320 << 10)],
    ['64 KiB noise', mixed.subarray(0, 64 << 10)],
    ['300 B', mixed.subarray(300_000, 300_300)],
    ['all zero 128 KiB', Buffer.alloc(128 << 10)],
    ['repeating 3-byte pattern', Buffer.from('abc'.repeat(50_000))],
  ];
  for (const level of ['-1', '-3', '-9', '-19']) {
    for (const check of ['--check', '--no-check']) {
      it(`decodes zstd ${level} ${check} output exactly`, () => {
        for (const [name, data] of inputs) {
          const frame = zstd(data, [level, check]);
          const out = new Uint8Array(data.length);
          const [n, used] = decodeZstdFrame(frame, out);
          assert.equal(n, data.length, name);
          assert.equal(used, frame.length, `${name}: consumed`);
          assert.equal(zstdFrameLength(frame), frame.length, `${name}: frame length`);
          assert.ok(Buffer.from(out).equals(data), `${name}: content`);
        }
      });
    }
  }

  it('never writes past the output buffer', () => {
    const data = mixed.subarray(0, 200_000);
    assert.throws(() => decodeZstdFrame(zstd(data, ['-3']), new Uint8Array(100_000)), ZstdError);
  });

  it('rejects corrupted frames with ZstdError only', () => {
    const frame = zstd(mixed.subarray(270_000, 500_000), ['-3']);
    let x = 12345, rejected = 0;
    const rnd = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
    for (let i = 0; i < 300; i++) {
      const bad = Buffer.from(frame);
      for (let k = 0; k < 1 + (rnd() % 3); k++) bad[rnd() % bad.length] ^= 1 << (rnd() % 8);
      try { decodeZstdFrame(bad, new Uint8Array(230_000)); } catch (err) {
        assert.ok(err instanceof ZstdError, `mutant ${i}: ${(err as Error).stack}`);
        rejected++;
      }
    }
    assert.ok(rejected > 100, `only ${rejected} of 300 corrupted frames were rejected`);
  });
});
