// FAT12/16/32 reader against mkfs.vfat + mcopy (the source tree) and mtools' mdir/mtype.
import { strict as assert } from 'node:assert';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FatFileSystem } from '../../../emulator/src/fs/fat/fatFs';
import { fixture, openImageFs, readAll, tool, toolBytes } from './fixtures';

describe('imgfs: FAT12/16/32', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => { dir = fixture('fat'); });

  for (const bits of [12, 16, 32] as const) {
    describe(`FAT${bits}`, () => {
      const img = () => join(dir, `fat${bits}.img`);

      it('is vfat to blkid and to us, with the FAT type chosen by cluster count', async () => {
        assert.equal(tool('blkid', ['-p', '-o', 'value', '-s', 'TYPE', img()]).trim(), 'vfat');
        const { fs, close } = await openImageFs(img());
        try {
          assert.equal(fs.type, 'vfat');
          assert.equal((fs.driver as FatFileSystem).fatBits, bits);
          assert.equal(fs.driver.label, `FAT${bits}VOL`);
        } finally { await close(); }
      });

      it('lists the same paths (long names included) as mdir -/ -b', async () => {
        const theirs = readFileSync(join(dir, `fat${bits}.mdir-b`), 'utf8').split('\n').filter(Boolean)
          .map((l) => l.replace(/^::/, '')).sort();
        const { fs, close } = await openImageFs(img());
        try {
          const ours: string[] = [];
          for await (const { path, entry } of fs.walk('/')) ours.push(entry.type === 'dir' ? `${path}/` : path);
          assert.deepEqual(ours.sort(), theirs);
        } finally { await close(); }
      });

      it('reads every file byte-identically to the source and to mtype; sizes and mtimes match', async () => {
        const { fs, close } = await openImageFs(img());
        try {
          for await (const { path, entry } of fs.walk('/')) {
            if (entry.type !== 'file') continue;
            const src = join(dir, 'src', path);
            const ours = await readAll(fs, path);
            assert.ok(readFileSync(src).equals(ours), path);
            assert.equal(entry.size, statSync(src).size, path);
            // mcopy -m keeps the modification time (FAT stores it with 2-second resolution).
            assert.ok(Math.abs(entry.mtime - Math.floor(statSync(src).mtimeMs / 1000)) <= 2, `${path} mtime`);
          }
          for (const p of ['/big.bin', '/A Long File Name.txt', '/lots/entry number 150.txt']) {
            assert.ok(toolBytes('mtype', ['-i', img(), `::${p}`]).equals(await readAll(fs, p)), `mtype ${p}`);
          }
          assert.ok(Buffer.from(await fs.read('/big.bin', 123457, 5000)).equals(readFileSync(join(dir, 'src', 'big.bin')).subarray(123457, 128457)));
        } finally { await close(); }
      });
    });
  }
});
