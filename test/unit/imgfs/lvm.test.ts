// LVM2 PVs, VG assembly across two images and every LV kind, against what the LVM tools wrote
// (pvcreate/vgcreate/lvcreate, vgcfgrestore, thin_restore) and report (pvck --dump, lvs).
import { strict as assert } from 'node:assert';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileDevice } from '../../../emulator/src/block/fileDevice';
import { openFileSystem } from '../../../emulator/src/fs/openFileSystem';
import { discoverVolumes } from '../../../emulator/src/volumes/discover';
import { readMetadataArea, readPvLabel } from '../../../emulator/src/volumes/lvm/label';
import { isSection, parseMetadataText } from '../../../emulator/src/volumes/lvm/metadataText';
import { SnapshotDevice } from '../../../emulator/src/volumes/lvm/snapshot';
import { fixture, tool } from './fixtures';

async function withImages<T>(paths: string[], fn: (images: { device: FileDevice; path: string }[]) => Promise<T>): Promise<T> {
  const images = await Promise.all(paths.map(async (path) => ({ device: await FileDevice.open(path), path })));
  try { return await fn(images); } finally { await Promise.all(images.map((i) => i.device.close())); }
}

describe('imgfs: LVM2', function () {
  this.timeout(180_000);
  let dir: string;
  let pvs: string[];
  before(() => { dir = fixture('lvm'); pvs = [join(dir, 'pv1.img'), join(dir, 'pv2.img')]; });

  it('reads the committed metadata text exactly as pvck --dump metadata prints it', async () => {
    const dump = readFileSync(join(dir, 'pv1.pvck.txt'), 'utf8');
    const theirs = dump.slice(dump.indexOf('---\n') + 4, dump.lastIndexOf('---')).trimEnd();
    await withImages(pvs.slice(0, 1), async ([img]) => {
      const label = (await readPvLabel(img.device))!;
      assert.equal(label.metadataAreas.length, 1);
      const m = (await readMetadataArea(img.device, label.metadataAreas[0]))!;
      assert.equal(m.text.trimEnd(), theirs.trimEnd());
      assert.match(dump, new RegExp(`metadata text at ${m.offset} crc 0x[0-9a-f]+ # vgname vgt seqno `));
      assert.equal(label.uuid.length, 32);
    });
  });

  it('lists the visible LVs lvs reports, with their sizes and filesystems (blkid on the source images)', async () => {
    const lvs = JSON.parse(readFileSync(join(dir, 'final-lvs.json'), 'utf8')).report[0].lv as { lv_name: string; lv_size: string; segtype: string }[];
    await withImages(pvs, async (images) => {
      const { volumes, warnings } = await discoverVolumes(images);
      assert.deepEqual(warnings, []);
      const ours = volumes.filter((v) => v.kind === 'lv');
      const visible = lvs.filter((l) => !l.lv_name.startsWith('[') && l.segtype !== 'thin-pool');
      assert.deepEqual(ours.map((v) => v.name).sort(), visible.map((l) => `vgt/${l.lv_name}`).sort());
      const blkid = (src: string) => tool('sh', ['-c', `blkid -p -o value -s TYPE ${src}; true`]).trim() || null;
      for (const l of visible) {
        const v = ours.find((x) => x.name === `vgt/${l.lv_name}`)!;
        // lvs reports a snapshot's COW size; the snapshot's readable view is as big as its origin.
        const expected = l.lv_name === 'snap' ? Number(lvs.find((x) => x.lv_name === 'lin')!.lv_size) : Number(l.lv_size);
        assert.equal(v.size, expected, l.lv_name);
        const src = join(dir, `${l.lv_name}.fs`);
        // A partitioned guest disk has no filesystem of its own (blkid -p reports only PTTYPE).
        assert.equal(v.fs, blkid(src), `${l.lv_name} fs`);
      }
      assert.deepEqual(volumes.filter((v) => v.kind === 'disk').map((v) => `${v.name}:${v.fs}`), ['disk:LVM2_member', 'disk@2:LVM2_member']);
    });
  });

  it('lists the partitions of a guest disk held in an LV as VG/LV/pN (sfdisk agrees)', async () => {
    const theirs = JSON.parse(tool('sfdisk', ['-J', join(dir, 'guest.fs')])).partitiontable.partitions as { start: number; size: number; name: string }[];
    await withImages(pvs, async (images) => {
      const { volumes } = await discoverVolumes(images);
      const nested = volumes.filter((v) => v.name.startsWith('vgt/guest/'));
      assert.deepEqual(nested.map((v) => [v.name, v.offset, v.size, v.fs, v.detail]), theirs.map((p, i) => [`vgt/guest/p${i + 1}`, p.start * 512, p.size * 512, 'ext2', p.name]));
      const fs = await openFileSystem(await nested[0].open());
      assert.equal(Buffer.from(await fs.read('/dir/hello.txt', 0, 100)).toString(), 'on an LV\n');
    });
  });

  for (const lv of ['lin', 'str', 'r1', 'mir', 'thin', 'snap', 'guest']) {
    it(`vgt/${lv} reads byte-identically to the filesystem image placed in it`, async () => {
      const expected = readFileSync(join(dir, `${lv}.fs`));
      await withImages(pvs, async (images) => {
        const v = (await discoverVolumes(images)).volumes.find((x) => x.name === `vgt/${lv}`)!;
        const dev = await v.open();
        assert.equal(dev.size, expected.length);
        for (let off = 0; off < expected.length; off += 4 * 1024 * 1024) {
          const n = Math.min(4 * 1024 * 1024, expected.length - off);
          assert.ok(Buffer.from(await dev.read(off, n)).equals(expected.subarray(off, off + n)), `${lv} at ${off}`);
        }
        // An unaligned read across stripe / chunk / extent boundaries.
        assert.ok(Buffer.from(await dev.read(65536 - 100, 200000)).equals(expected.subarray(65536 - 100, 65536 - 100 + 200000)));
        if (lv === 'snap') assert.equal((dev as SnapshotDevice).exceptionCount, Number(readFileSync(join(dir, 'snap.exceptions'), 'utf8')));
      });
    });
  }

  it('shows the snapshot as of its creation and the origin as it is now', async () => {
    await withImages(pvs, async (images) => {
      const { volumes } = await discoverVolumes(images);
      const origin = await openFileSystem(await volumes.find((v) => v.name === 'vgt/lin')!.open());
      const snap = await openFileSystem(await volumes.find((v) => v.name === 'vgt/snap')!.open());
      assert.equal((await origin.stat('/dir/hello.txt')).size, 9);
      await assert.rejects(snap.stat('/dir/hello.txt'), /no such file/);
      assert.equal(Buffer.from(await snap.read('/after.txt', 0, 100)).toString(), 'written after the snapshot\n');
    });
  });

  it('with one PV missing: LVs on the present PV still read, the others say which PV is missing', async () => {
    await withImages(pvs.slice(0, 1), async (images) => {
      const { volumes, warnings } = await discoverVolumes(images);
      assert.match(warnings.join('\n'), /VG vgt: missing pv1 \(/);
      const lin = volumes.find((v) => v.name === 'vgt/lin')!;
      assert.equal(lin.fs, 'ext4');
      const str = volumes.find((v) => v.name === 'vgt/str')!;
      assert.match(str.error!, /needs PV [\w-]{38}, which is not in the given images/);
    });
  });

  it('parses vgcfgbackup text like the on-disk copy, and positions syntax errors', async () => {
    const backup = parseMetadataText(readFileSync(join(dir, 'final.vg'), 'utf8')).vgt;
    const onDisk = await withImages(pvs.slice(0, 1), async ([i]) => {
      const label = (await readPvLabel(i.device))!;
      return parseMetadataText((await readMetadataArea(i.device, label.metadataAreas[0]))!.text).vgt;
    });
    assert.ok(isSection(backup) && isSection(onDisk) && isSection(backup.logical_volumes) && isSection(onDisk.logical_volumes));
    assert.deepEqual(Object.keys(onDisk.logical_volumes).sort(), Object.keys(backup.logical_volumes).sort());
    assert.equal(onDisk.seqno, backup.seqno);
    assert.throws(() => parseMetadataText('vgt {\n  id = "x"\n  seqno = [1, \n}\n'), /LVM metadata text: .* at line \d+, column \d+/);
  });

  it('checks the label, mda header and metadata text CRCs', async () => {
    const bad = join(dir, 'pv1-bad.img');
    const label = (await withImages(pvs.slice(0, 1), async ([i]) => readPvLabel(i.device)))!;
    const mda = label.metadataAreas[0];
    const text = await withImages(pvs.slice(0, 1), async ([i]) => readMetadataArea(i.device, mda));
    const poke = (offset: number) => tool('sh', ['-c', `printf '\\x7f' | dd of=${bad} bs=1 seek=${offset} conv=notrunc status=none`]);
    copyFileSync(pvs[0], bad);
    poke(text!.offset + 10);
    await withImages([bad], async ([i]) => {
      await assert.rejects(readMetadataArea(i.device, mda), /metadata text CRC mismatch \(raw_locn offset \d+\)/);
      const { warnings } = await discoverVolumes([i]);
      assert.match(warnings.join('\n'), /disk: metadata text CRC mismatch/);
    });
    copyFileSync(pvs[0], bad);
    poke(mda.offset + 100);
    await withImages([bad], async ([i]) => { await assert.rejects(readMetadataArea(i.device, mda), /metadata area header CRC mismatch/); });
    copyFileSync(pvs[0], bad);
    poke(label.labelOffset + 100);
    await withImages([bad], async ([i]) => { await assert.rejects(readPvLabel(i.device), /LVM label CRC mismatch \(LVM label offset 528\)/); });
  });
});
