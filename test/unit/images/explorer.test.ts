import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { openImage } from '../../../emulator/src/block/open';
import { allocationMap, type CellKind } from '../../../client/src/images/allocationMap';
import { looksLikeDiskImage } from '../../../client/src/images/detectImage';
import { ImageLibrary } from '../../../client/src/images/imageLibrary';
import { formatImageUri, parseImageUri } from '../../../client/src/images/imageUri';
import { cachedFixtures } from '../../support/fixtures';

interface MapEntry { start: number; length: number; depth: number; present: boolean; zero: boolean; data: boolean; offset?: number }

/** What qemu-img map says, in our five kinds (depth > 0: a backing file holds it). */
function qemuTotals(image: string): Record<CellKind, number> {
  const entries = JSON.parse(execFileSync('qemu-img', ['map', '--output=json', image], { encoding: 'utf8' })) as MapEntry[];
  const t: Record<CellKind, number> = { data: 0, compressed: 0, zero: 0, backing: 0, unallocated: 0 };
  for (const e of entries) {
    if (!e.present) t.unallocated += e.length;
    else if (e.depth > 0) t.backing += e.length;
    else if (e.data) t[e.offset === undefined ? 'compressed' : 'data'] += e.length;
    else t.zero += e.length;
  }
  return t;
}

describe('disk-image explorer model', () => {
  let dir: string;
  before(function () {
    this.timeout(120_000);
    dir = cachedFixtures('images-explorer', 'test/fixtures/images/make-explorer-fixtures.sh');
  });

  for (const name of ['top.qcow2', 'compressed.qcow2', 'base.qcow2']) {
    it(`allocation map of ${name} agrees with qemu-img map`, async () => {
      const image = await openImage(join(dir, name));
      try {
        const map = await allocationMap(image.device, { cells: 64 });
        assert.equal(map.complete, true);
        assert.deepEqual(map.totals, qemuTotals(join(dir, name)));
      } finally {
        await image.close();
      }
    });
  }

  it('stops early when asked and says the map is partial', async () => {
    const image = await openImage(join(dir, 'top.qcow2'));
    try {
      const map = await allocationMap(image.device, { progress: () => true });
      assert.equal(map.complete, false);
    } finally {
      await image.close();
    }
  });

  it('recognises disk images by content, not by name', async () => {
    for (const f of ['top.qcow2', 'fat.img', 'cd.iso']) assert.equal(await looksLikeDiskImage(join(dir, f)), true, f);
    assert.equal(await looksLikeDiskImage(join(dir, 'notanimage.txt')), false);
    assert.equal(await looksLikeDiskImage(join(dir, 'missing')), false);
  });

  it('confines backing files to the workspace when asked', async () => {
    const confined = new ImageLibrary({ confineBackingTo: () => ['/nonexistent-workspace'] });
    const loaded = await confined.open(join(dir, 'top.qcow2'));
    assert.ok(loaded.image.backingRefused, 'the backing file outside the workspace was refused');
    await assert.rejects(loaded.image.device.read(0, 512), /base\.qcow2|refused|outside/i);
    await confined.dispose();
    const open = new ImageLibrary({ confineBackingTo: () => [] });
    const full = await open.open(join(dir, 'top.qcow2'));
    assert.equal((await full.image.device.read(0, 1))[0], 1, 'byte 0 comes from the base image');
    await open.dispose();
  });

  it('lists files of a filesystem image through the library', async () => {
    const library = new ImageLibrary({ confineBackingTo: () => [] });
    try {
      const loaded = await library.open(join(dir, 'cd.iso'));
      const { volumes } = await loaded.volumes();
      const disk = volumes.find((v) => v.name === 'disk');
      assert.equal(disk?.fs, 'iso9660');
      const fs = await loaded.fileSystem('disk');
      assert.deepEqual((await fs.readdir('/')).map((e) => e.name), ['hello.txt']);
      assert.equal(Buffer.from(await fs.read('/hello.txt', 0, 100)).toString(), 'hello\n');
    } finally {
      await library.dispose();
    }
  });

  it('round-trips file locations through virt-image URIs, LV names included', () => {
    const loc = { image: '/imgs/my disk.qcow2', volume: 'vg0/root', path: '/etc/hostname' };
    const uri = formatImageUri(loc);
    assert.equal(uri.scheme, 'virt-image');
    assert.deepEqual(parseImageUri(uri), loc);
    assert.deepEqual(parseImageUri(formatImageUri({ ...loc, path: '/' })), { ...loc, path: '/' });
  });
});
