// ISO 9660 reader (Rock Ridge, Joliet, plain) against xorriso/genisoimage images and isoinfo.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, readlinkSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { IsoFileSystem } from '../../../emulator/src/fs/iso/isoFs';
import { fixture, openImageFs, readAll, tool, toolBytes } from './fixtures';

function sourcePaths(root: string, withSymlinks: boolean, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, rel))) {
    const p = `${rel}/${name}`;
    if (withSymlinks || !lstatSync(join(root, p)).isSymbolicLink()) out.push(p);
    if (lstatSync(join(root, p)).isDirectory()) out.push(...sourcePaths(root, withSymlinks, p));
  }
  return out;
}

/** isoinfo does not follow Rock Ridge CL links: it shows genisoimage's relocated directories under /rr_moved. */
const relocated = (img: string, path: string) => img === 'rr-geniso' && path.startsWith('/a/b/c/d/e/f/g/h/');

describe('imgfs: ISO 9660', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => { dir = fixture('iso'); });

  const cases = [
    { img: 'rr-xorriso', naming: 'rockridge', flag: '-R', label: 'XORRISO_RR' },
    { img: 'rr-geniso', naming: 'rockridge', flag: '-R', label: 'GENISO_RR' },
    { img: 'joliet', naming: 'joliet', flag: '-J', label: 'JOLIET' },
    { img: 'plain', naming: 'iso9660', flag: '', label: 'PLAIN' },
  ] as const;

  for (const c of cases) {
    describe(c.img, () => {
      const img = () => join(dir, `${c.img}.iso`);

      it('lists the same paths as isoinfo -f', async () => {
        assert.equal(tool('blkid', ['-p', '-o', 'value', '-s', 'TYPE', img()]).trim(), 'iso9660');
        // isoinfo prints Joliet names in ISO 8859-1 (it has no UTF-8 output charset).
        const theirs = toolBytes('isoinfo', [...(c.flag ? [c.flag] : []), '-f', '-i', img()]).toString(c.naming === 'joliet' ? 'latin1' : 'utf8').split('\n').filter(Boolean)
          .map((p) => (c.naming === 'iso9660' ? p.replace(/;\d+$/, '').replace(/\.$/, '') : p))
          .filter((p) => !(c.img === 'rr-geniso' && /^\/rr_moved\//.test(p))).sort();
        const { fs, close } = await openImageFs(img());
        try {
          const iso = fs.driver as IsoFileSystem;
          assert.equal(iso.naming, c.naming);
          assert.equal(iso.label, c.label);
          const ours: string[] = [];
          for await (const { path } of fs.walk('/')) ours.push(path);
          assert.deepEqual(ours.filter((p) => !relocated(c.img, p)).sort(), theirs.filter((p) => !relocated(c.img, p)));
          // Without Rock Ridge, genisoimage drops symlinks and directories nested deeper than 8 levels.
          const expected = sourcePaths(join(dir, 'src'), c.naming === 'rockridge').filter((p) => c.naming === 'rockridge' || !p.startsWith('/a/b/c/d/e/f/g/h'));
          if (c.img === 'rr-geniso') expected.push('/rr_moved');
          if (c.naming !== 'iso9660') assert.deepEqual(ours.sort(), expected.sort());
        } finally { await close(); }
      });

      it('reads files identically to isoinfo -x', async () => {
        const { fs, close } = await openImageFs(img());
        try {
          let n = 0;
          for await (const { path, entry } of fs.walk('/')) {
            if (entry.type !== 'file' || (path.includes('/lots/') && !path.endsWith('7.txt') && !path.endsWith('7.TXT'))) continue;
            if (relocated(c.img, path)) continue;
            if (c.naming !== 'iso9660') assert.ok(readFileSync(join(dir, 'src', path)).equals(await readAll(fs, path)), path);
            if (!/^[\x20-\x7e]*$/.test(path)) continue; // isoinfo -x cannot be given a non-ASCII Joliet name
            const theirs = toolBytes('isoinfo', [...(c.flag ? [c.flag] : []), '-x', c.naming === 'iso9660' ? `${path};1` : path, '-i', img()]);
            assert.ok(theirs.equals(await readAll(fs, path)), path);
            n++;
          }
          assert.ok(n >= 10, `compared ${n} files`);
        } finally { await close(); }
      });
    });
  }

  it('Rock Ridge: modes, symlinks (relative, absolute, with ..), mtimes and relocated deep directories', async () => {
    for (const img of ['rr-xorriso', 'rr-geniso']) {
      const { fs, close } = await openImageFs(join(dir, `${img}.iso`));
      try {
        for (const l of ['/link', '/abslink', '/docs/rel']) assert.equal(await fs.readlink(l), readlinkSync(join(dir, 'src', l)), `${img} ${l}`);
        assert.equal((await fs.stat('/run.sh')).mode & 0o777, 0o755);
        assert.equal((await fs.stat('/run.sh')).mtime, 1700000000);
        assert.equal((await fs.stat('/link')).size, 7);
        assert.deepEqual(await readAll(fs, '/a/b/c/d/e/f/g/h/i/j/deep.txt'), readFileSync(join(dir, 'src/a/b/c/d/e/f/g/h/i/j/deep.txt')));
        assert.deepEqual((await fs.readdir('/docs/rel/e')).map((e) => e.name), ['f']);
        const longListing = tool('isoinfo', ['-R', '-l', '-i', join(dir, `${img}.iso`)]);
        assert.match(longListing, /abslink -> \/etc\/hostname/);
      } finally { await close(); }
    }
    // genisoimage moved the deep directory to /rr_moved; it must only show at its original place.
    assert.match(tool('isoinfo', ['-R', '-f', '-i', join(dir, 'rr-geniso.iso')]), /^\/rr_moved\/h$/m);
    const { fs, close } = await openImageFs(join(dir, 'rr-geniso.iso'));
    try {
      // Like Linux isofs, the relocation directory stays visible but its relocated entries (RE) do not.
      assert.deepEqual(await fs.readdir('/rr_moved'), []);
      assert.deepEqual((await fs.readdir('/a/b/c/d/e/f/g/h')).map((e) => e.name), ['i']);
    } finally { await close(); }
  });
});
