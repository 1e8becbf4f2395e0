// qcow2 driver entry: header → active L1 → device; snapshots open their own L1 lazily.
import { ImageError } from '../blockDevice';
import type { FileDevice } from '../fileDevice';
import type { ParsedImage } from '../image';
import { qcow2Bits, readBitmapDirectory, readQcow2Header } from './header';
import { Qcow2Device, Qcow2Tables } from './qcow2Device';
import { readSnapshotTable } from './snapshots';

export async function openQcow2(file: FileDevice): Promise<ParsedImage> {
  const h = await readQcow2Header(file);
  const tables = new Qcow2Tables(file, h);
  const l1 = await tables.readL1(h.l1Offset, h.l1Size, 'L1 table');
  const snapshots = await readSnapshotTable(file, h);
  const bitmaps = await readBitmapDirectory(file, h);
  const device = new Qcow2Device(tables, l1, h.size, true);
  const data: Record<string, unknown> = h.version === 2
    ? { compat: '0.10', 'compression-type': h.compressionType, 'refcount-bits': 2 ** h.refcountOrder }
    : {
      compat: '1.1',
      'compression-type': h.compressionType,
      'lazy-refcounts': (h.compatible & qcow2Bits.COMPAT_LAZY_REFCOUNTS) !== 0,
      ...(bitmaps.length ? { bitmaps } : {}),
      'refcount-bits': 2 ** h.refcountOrder,
      corrupt: (h.incompatible & qcow2Bits.INCOMPAT_CORRUPT) !== 0,
      'extended-l2': h.extendedL2,
    };
  return {
    format: 'qcow2',
    device,
    virtualSize: h.size,
    clusterSize: h.clusterSize,
    backing: h.backingName !== undefined ? { name: h.backingName, format: h.backingFormat } : undefined,
    snapshots: snapshots.map(({ l1Offset: _o, l1Size: _s, ...info }) => info),
    formatSpecific: { type: 'qcow2', data },
    dirty: (h.incompatible & qcow2Bits.INCOMPAT_DIRTY) !== 0,
    files: [file],
    headerExtensions: h.extensions.map((e) => ({ type: `0x${e.type.toString(16).padStart(8, '0')}`, name: e.name, length: e.length })),
    async openSnapshot(idOrName: string) {
      const s = snapshots.find((x) => x.id === idOrName) ?? snapshots.find((x) => x.name === idOrName);
      if (!s) throw new ImageError(`no snapshot with id or name "${idOrName}"`);
      const snapL1 = await tables.readL1(s.l1Offset, s.l1Size, `snapshot ${s.id} L1 table`);
      return new Qcow2Device(tables, snapL1, s.diskSize);
    },
  };
}
