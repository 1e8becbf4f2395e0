// Partition tables (MBR with logical partitions, GPT on 512- and 4096-byte sectors) against
// sfdisk -J, and per-volume filesystem detection against blkid -p.
import { strict as assert } from 'node:assert';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileDevice } from '../../../emulator/src/block/fileDevice';
import { discoverVolumes, readPartitionTable } from '../../../emulator/src/volumes/discover';
import { fixture, tool } from './fixtures';

interface SfdiskPart { node: string; start: number; size: number; type: string; uuid?: string; name?: string; bootable?: boolean }

function sfdisk(file: string): { sectorsize?: number; id: string; partitions: SfdiskPart[] } {
  return JSON.parse(readFileSync(file, 'utf8')).partitiontable;
}

function blkidAt(img: string, offset: number, size: number): string | null {
  const r = tool('sh', ['-c', `blkid -p -o value -s TYPE --offset ${offset} --size ${size} ${img}; true`]).trim();
  return r === '' ? null : r;
}

async function volumesOf(img: string) {
  const dev = await FileDevice.open(img);
  try { return await discoverVolumes([{ device: dev, path: img }]); } finally { await dev.close(); }
}

describe('imgfs: partition tables', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => { dir = fixture('parts'); });

  for (const [img, ss, scheme] of [['mbr', 512, 'mbr'], ['gpt', 512, 'gpt'], ['gpt4k', 4096, 'gpt']] as const) {
    it(`${img}: partitions match sfdisk -J, filesystems match blkid -p`, async () => {
      const path = join(dir, `${img}.img`);
      const theirs = sfdisk(join(dir, `${img}.sfdisk.json`));
      const dev = await FileDevice.open(path);
      try {
        const table = (await readPartitionTable(dev))!;
        assert.equal(table.scheme, scheme);
        assert.equal(table.sectorSize, ss);
        assert.deepEqual(table.warnings, []);
        const num = (node: string) => Number(/(\d+)$/.exec(node)![1]);
        assert.deepEqual(table.partitions.map((p) => p.number), theirs.partitions.map((p) => num(p.node)));
        for (const t of theirs.partitions) {
          const p = table.partitions.find((x) => x.number === num(t.node))!;
          assert.equal(p.start, t.start * ss, `${t.node} start`);
          assert.equal(p.size, t.size * ss, `${t.node} size`);
          if (scheme === 'gpt') {
            assert.equal(p.type, t.type);
            assert.equal(p.uuid, t.uuid);
            assert.equal(p.name ?? '', t.name ?? '');
          } else {
            assert.equal(p.type, t.type.padStart(2, '0'));
            assert.equal(p.bootable ?? false, t.bootable ?? false);
          }
        }
        if (scheme === 'gpt') assert.equal(table.diskId, theirs.id);
      } finally { await dev.close(); }
      const { volumes } = await volumesOf(path);
      let checked = 0;
      for (const v of volumes.filter((x) => x.kind === 'partition' && x.detail !== 'extended')) {
        assert.equal(v.fs, blkidAt(path, v.offset!, v.size), `${v.name} filesystem`);
        checked++;
      }
      assert.equal(checked, theirs.partitions.filter((p) => p.type !== '5').length);
    });
  }

  it('names volumes disk, p1, p2 ... and reports extended and unsupported ones', async () => {
    const { volumes } = await volumesOf(join(dir, 'mbr.img'));
    assert.deepEqual(volumes.map((v) => `${v.name}:${v.fs ?? '-'}`), ['disk:-', 'p1:ext2', 'p2:vfat', 'p3:ext3', 'p4:-', 'p5:ext4', 'p6:swap', 'p7:ext3']);
    assert.equal(volumes[4].detail, 'extended');
    const gpt = await volumesOf(join(dir, 'gpt.img'));
    assert.deepEqual(gpt.volumes.map((v) => v.fs), [null, 'ext4', 'vfat', 'btrfs', 'xfs', 'swap', null]);
  });

  it('falls back to the backup GPT when the primary header is corrupt, and fails clearly when both are', async () => {
    const bad = join(dir, 'gpt-badprimary.img');
    copyFileSync(join(dir, 'gpt4k.img'), bad);
    tool('sh', ['-c', `printf 'XXXX' | dd of=${bad} bs=1 seek=${4096 + 24} conv=notrunc status=none`]);
    let dev = await FileDevice.open(bad);
    try {
      const t = (await readPartitionTable(dev))!;
      assert.equal(t.partitions.length, 2);
      assert.match(t.warnings.join(), /primary GPT header CRC mismatch.*using the backup GPT/);
    } finally { await dev.close(); }
    const size = Number(tool('stat', ['-c', '%s', bad]));
    tool('sh', ['-c', `printf 'XXXX' | dd of=${bad} bs=1 seek=${size - 4096 + 24} conv=notrunc status=none`]);
    dev = await FileDevice.open(bad);
    try {
      await assert.rejects(readPartitionTable(dev), /primary GPT header CRC mismatch \(GPT header offset 4112\), and the backup GPT is unusable too/);
    } finally { await dev.close(); }
  });
});
