// ext2/3/4 reader against mke2fs -d (the source tree it packed) and debugfs (what e2fsprogs reads).
import { strict as assert } from 'node:assert';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ExtFileSystem } from '../../../emulator/src/fs/ext/extFs';
import { INODE_FLAGS } from '../../../emulator/src/fs/ext/inode';
import { fixture, openImageFs, readAll, tool, toolBytes } from './fixtures';

type Kind = 'file' | 'dir' | 'symlink' | 'other';

function hostTree(root: string): Map<string, { type: Kind; size: number; perm: number; target?: string }> {
  const out = new Map<string, { type: Kind; size: number; perm: number; target?: string }>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel))) {
      const p = `${rel}/${name}`;
      const st = lstatSync(join(root, p));
      const type: Kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
      out.set(p, { type, size: st.size, perm: st.mode & 0o7777, target: type === 'symlink' ? readlinkSync(join(root, p)) : undefined });
      if (type === 'dir') walk(p);
    }
  };
  walk('');
  return out;
}

describe('imgfs: ext2/ext3/ext4', function () {
  this.timeout(240_000);
  let dir: string;
  before(() => { dir = fixture('ext'); });

  for (const [img, type] of [['ext2', 'ext2'], ['ext3', 'ext3'], ['ext4', 'ext4'], ['ext4-metabg', 'ext4']] as const) {
    describe(img, () => {
      it(`is detected as ${type}, as blkid says`, async () => {
        assert.equal(tool('blkid', ['-p', '-o', 'value', '-s', 'TYPE', join(dir, `${img}.img`)]).trim(), type);
        const { fs, close } = await openImageFs(join(dir, `${img}.img`));
        try { assert.equal(fs.type, type); } finally { await close(); }
      });

      it('lists the whole tree exactly as mke2fs -d packed it, with identical contents', async () => {
        const { fs, close } = await openImageFs(join(dir, `${img}.img`));
        try {
          const host = hostTree(join(dir, 'src'));
          const seen = new Map<string, { type: Kind; size: number; mode: number; target?: string }>();
          for await (const { path, entry } of fs.walk('/')) {
            if (path.startsWith('/lost+found')) continue;
            seen.set(path, entry);
          }
          assert.deepEqual([...seen.keys()].sort(), [...host.keys()].sort());
          for (const [path, h] of host) {
            const e = seen.get(path)!;
            assert.equal(e.type, h.type, path);
            assert.equal(e.mode & 0o7777, h.perm, `${path} permissions`);
            if (h.type === 'file') {
              assert.equal(e.size, h.size, `${path} size`);
              assert.ok(readFileSync(join(dir, 'src', path)).equals(await readAll(fs, path)), `${path} content`);
            }
            if (h.type === 'symlink') assert.equal(e.target, h.target, `${path} target`);
          }
        } finally { await close(); }
      });

      it('agrees with debugfs ls -p (inode, mode, size) for the root and a 3000-entry directory', async () => {
        const { fs, close } = await openImageFs(join(dir, `${img}.img`));
        try {
          const ext = fs.driver as ExtFileSystem;
          for (const d of ['/', '/many']) {
            const theirs = tool('debugfs', ['-R', `ls -p ${d}`, join(dir, `${img}.img`)]).split('\n').filter((l) => l.startsWith('/'))
              .map((l) => l.split('/')).filter((f) => f[5] !== '.' && f[5] !== '..')
              .map((f) => `${f[1]} ${f[2]} ${f[5]} ${f[6]}`).sort();
            const root = await fs.resolve(d);
            const ours = (await ext.list(root)).map((e) => `${e.inode.id} ${e.inode.mode.toString(8).padStart(6, '0')} ${e.name} ${e.inode.type === 'dir' ? '' : e.inode.size}`).sort();
            assert.equal(ours.length, theirs.length);
            assert.deepEqual(ours, theirs);
          }
        } finally { await close(); }
      });

      it('dumps files byte-identically to debugfs dump, and reads ranges inside holes', async () => {
        const { fs, close } = await openImageFs(join(dir, `${img}.img`));
        try {
          for (const p of ['/big.bin', '/sparse.bin', '/inline.txt', '/tiny.txt']) {
            const out = join(dir, `dump-${img}-${p.slice(1)}`);
            tool('debugfs', ['-R', `dump ${p} ${out}`, join(dir, `${img}.img`)]);
            const ours = await readAll(fs, p);
            // debugfs 1.47 dumps an inline-data file's whole 60-byte i_block area; compare i_size bytes.
            const theirs = readFileSync(out);
            assert.ok(theirs.length >= ours.length && theirs.subarray(0, ours.length).equals(ours), p);
            assert.equal(ours.length, (await fs.stat(p)).size);
          }
          const src = readFileSync(join(dir, 'src', 'sparse.bin'));
          for (const [off, len] of [[0, 10], [4096, 100], [5 * 1024 * 1024 - 7, 50], [20 * 1024 * 1024 - 10, 100]]) {
            assert.ok(Buffer.from(await fs.read('/sparse.bin', off, len)).equals(src.subarray(off, off + len)), `range ${off}+${len}`);
          }
        } finally { await close(); }
      });
    });
  }

  it('ext4 fixture really exercises htree, inline data, extents and 64-bit descriptors', async () => {
    const { fs, close } = await openImageFs(join(dir, 'ext4.img'));
    try {
      const ext = fs.driver as ExtFileSystem;
      const many = await ext.inode((await fs.resolve('/many')).id);
      assert.ok(many.flags & INODE_FLAGS.INDEX, '/many is an htree directory');
      assert.match(tool('debugfs', ['-R', 'htree_dump /many', join(dir, 'ext4.img')]), /Number of entries/);
      assert.ok((await ext.inode((await fs.resolve('/tiny.txt')).id)).flags & INODE_FLAGS.INLINE_DATA);
      assert.ok((await ext.inode((await fs.resolve('/inline.txt')).id)).flags & INODE_FLAGS.INLINE_DATA);
      assert.ok((await ext.inode((await fs.resolve('/big.bin')).id)).flags & INODE_FLAGS.EXTENTS);
      assert.equal(ext.sb.descSize, 64);
      assert.equal(ext.label, 'ext4vol');
      assert.equal(await fs.readlink('/slow'), readlinkSync(join(dir, 'src', 'slow')));
      assert.equal((await fs.stat('/abs')).size, 10, 'absolute symlink followed');
      assert.equal((await fs.lstat('/fifo')).type, 'other');
      await assert.rejects(fs.stat('/dangling'), /no such file/);
      await assert.rejects(fs.readdir('/small.txt'), /not a directory/);
      await assert.rejects(fs.read('/sub', 0, 1), /is a directory/);
      // mtime survives packing (touch -d @1700000000 in the fixture) and matches debugfs.
      assert.equal((await fs.stat('/small.txt')).mtime, 1700000000);
      assert.ok(toolBytes('debugfs', ['-R', 'stat /small.txt', join(dir, 'ext4.img')]).toString().includes('mtime: 0x6553f100'));
    } finally { await close(); }
  });
});
