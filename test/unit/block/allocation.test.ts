// The allocation summary (data / compressed / zero / backing / unallocated) against what
// `qemu-img map --output=json` reports for the same qcow2 images and chains.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { allocationSummary } from '../../../emulator/src/block/allocation';
import { openImage } from '../../../emulator/src/block/open';
import { blockFixtures } from '../../fixtures/block/images';

interface MapEntry { start: number; length: number; depth: number; present: boolean; zero: boolean; data: boolean; offset?: number }

function qemuSummary(dir: string, file: string): Record<string, number> {
  const map = JSON.parse(execFileSync('qemu-img', ['map', '--output=json', file], { cwd: dir, encoding: 'utf8' })) as MapEntry[];
  const s: Record<string, number> = { data: 0, compressed: 0, zero: 0, backing: 0, unallocated: 0 };
  for (const e of map) {
    const kind = !e.present ? 'unallocated' : e.depth > 0 ? 'backing' : e.data ? (e.offset === undefined ? 'compressed' : 'data') : 'zero';
    s[kind] += e.length;
  }
  return s;
}

describe('block: allocation map against qemu-img map', () => {
  const { dir } = blockFixtures();
  for (const f of ['q-mixed.qcow2', 'q-zero.qcow2', 'q-zlib.qcow2', 'q-prealloc.qcow2', 'chain-top.qcow2', 'chain-mid.qcow2', 'q-extl2-2m.qcow2', 'q-c512.qcow2']) {
    it(f, async () => {
      const img = await openImage(join(dir, f));
      try {
        const { 'truncated-at': truncated, ...ours } = await allocationSummary(img.device);
        assert.equal(truncated, undefined);
        assert.deepEqual(ours, qemuSummary(dir, f));
      } finally {
        await img.close();
      }
    });
  }
});
