// The qcow2 internal snapshot table: each entry names an L1 table frozen at snapshot time.
import { ImageError } from '../blockDevice';
import { Fields, utf8 } from '../bytes';
import type { FileDevice } from '../fileDevice';
import type { SnapshotInfo } from '../image';
import type { Qcow2Header } from './header';

export interface Qcow2Snapshot extends SnapshotInfo { l1Offset: number; l1Size: number }

const MAX_TABLE_BYTES = 64 * 1024 * 1024; // QEMU's bound on the whole table
const MAX_EXTRA = 1024;

export async function readSnapshotTable(file: FileDevice, h: Qcow2Header): Promise<Qcow2Snapshot[]> {
  const out: Qcow2Snapshot[] = [];
  let at = h.snapshotsOffset;
  for (let i = 0; i < h.nbSnapshots; i++) {
    if (at - h.snapshotsOffset > MAX_TABLE_BYTES) throw new ImageError('snapshot table is larger than 64 MiB', 'snapshot table', h.snapshotsOffset);
    if (at + 40 > file.size) throw new ImageError(`snapshot ${i} is outside the file`, 'snapshot table', at);
    const f = new Fields(await file.read(at, 40), `snapshot ${i}`, at, false);
    const idSize = f.u16(12), nameSize = f.u16(14), extraSize = f.u32(36);
    if (extraSize > MAX_EXTRA) throw f.error(`snapshot extra data of ${extraSize} bytes is too large`, 36);
    const restLen = extraSize + idSize + nameSize;
    if (at + 40 + restLen > file.size) throw f.error(`snapshot ${i} runs past the end of the file`);
    const rest = await file.read(at + 40, restLen);
    const extra = new Fields(rest.subarray(0, extraSize), `snapshot ${i} extra data`, at + 40, false);
    const vmClock = f.u64n(24);
    let vmState = f.u32(32);
    if (extraSize >= 8) vmState = extra.u64(0, 'vm state size');
    const diskSize = extraSize >= 16 ? extra.u64(8, 'snapshot disk size') : h.size;
    const icount = extraSize >= 24 && extra.u64n(16) !== 0xffffffffffffffffn ? extra.u64(16, 'icount') : undefined;
    const l1Size = f.u32(8), l1Offset = f.u64(0, 'snapshot L1 offset');
    if (l1Size * 8 > 32 * 1024 * 1024) throw f.error(`snapshot L1 table of ${l1Size} entries is too large`, 8);
    if (l1Size > 0 && (l1Offset % h.clusterSize !== 0 || l1Offset + l1Size * 8 > file.size)) {
      throw f.error(`snapshot L1 table at ${l1Offset} is unaligned or outside the file`, 0);
    }
    const s: Qcow2Snapshot = {
      id: utf8(rest.subarray(extraSize, extraSize + idSize)),
      name: utf8(rest.subarray(extraSize + idSize, extraSize + idSize + nameSize)),
      'vm-state-size': vmState,
      'date-sec': f.u32(16),
      'date-nsec': f.u32(20),
      'vm-clock-sec': Number(vmClock / 1_000_000_000n),
      'vm-clock-nsec': Number(vmClock % 1_000_000_000n),
      diskSize, l1Offset, l1Size,
    };
    if (icount !== undefined) s.icount = icount;
    out.push(s);
    at += Math.ceil((40 + restLen) / 8) * 8;
  }
  return out;
}
