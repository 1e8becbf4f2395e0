// examples/ is what a newcomer sees first (npm start opens it): each file must be what it claims,
// as libvirt's, LVM's and the disk tools' own checks see it.
import * as assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectKind } from '../../../server/src/documentKind';
import { REPO } from '../../support/cli';

const EXAMPLES = join(REPO, 'examples');

/** `out` is stdout and stderr together (for messages), `stdout` alone (for parsing). */
function run(cmd: string, args: string[], options: SpawnSyncOptions = {}): { status: number | null; stdout: string; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, ...options, env: { ...process.env, LVM_SUPPRESS_FD_WARNINGS: '1', ...options.env } });
  if (r.error) throw new Error(`${cmd} could not run (${r.error.message}): install it (npm run setup)`);
  return { status: r.status, stdout: String(r.stdout), out: `${r.stdout}${r.stderr}` };
}

describe('examples', () => {
  describe('domain.xml', () => {
    const file = join(EXAMPLES, 'domain.xml');

    it('is valid for virt-xml-validate (libvirt\'s RelaxNG schema)', () => {
      const r = run('virt-xml-validate', [file]);
      assert.equal(r.status, 0, r.out);
    });

    it('passes libvirt\'s define-time checks (virsh define on the test driver)', () => {
      const r = run('virsh', ['-c', 'test:///default', 'define', file]);
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /Domain 'web01' defined/);
    });

    it('describes a q35 KVM guest with a virtio qcow2 disk, virtio NIC, serial console and VNC', () => {
      const xml = readFileSync(file, 'utf8');
      for (const part of [/<domain type='kvm'>/, /machine='q35'/, /<driver name='qemu' type='qcow2'/, /<target dev='vda' bus='virtio'\/>/,
        /<interface type='network'>[\s\S]*<model type='virtio'\/>/, /<serial type='pty'>/, /<console type='pty'>/, /<graphics type='vnc'/]) {
        assert.match(xml, part);
      }
    });

    it('is recognised as a domain from its first line, as the manifest\'s firstLine pattern does', () => {
      const text = readFileSync(file, 'utf8');
      assert.equal(detectKind(file, text), 'domain');
      const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
      const lang = manifest.contributes.languages.find((l: { id: string }) => l.id === 'libvirt-xml');
      assert.match(text.split('\n')[0], new RegExp(lang.firstLine));
    });
  });

  describe('lvm.conf', () => {
    it('is valid for lvmconfig --validate', () => {
      const dir = mkdtempSync(join(tmpdir(), 'virt-studio-lvmconf-'));
      try {
        copyFileSync(join(EXAMPLES, 'lvm.conf'), join(dir, 'lvm.conf'));
        const r = run('lvmconfig', ['--validate'], { env: { LVM_SYSTEM_DIR: dir } });
        assert.equal(r.status, 0, r.out);
        assert.match(r.out, /LVM configuration valid/);
        // The check is real: a misspelt setting in the same file is refused.
        const broken = readFileSync(join(EXAMPLES, 'lvm.conf'), 'utf8').replace('thin_pool_zero', 'thin_pool_zer0');
        spawnSync('sh', ['-c', 'cat > "$0"', join(dir, 'lvm.conf')], { input: broken });
        const bad = run('lvmconfig', ['--validate'], { env: { LVM_SYSTEM_DIR: dir } });
        assert.notEqual(bad.status, 0);
        assert.match(bad.out, /thin_pool_zer0" unknown/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('make-sample-image.sh', function () {
    this.timeout(120_000);
    const script = join(EXAMPLES, 'make-sample-image.sh');
    const key = createHash('sha256').update(readFileSync(script)).digest('hex').slice(0, 16);
    const cache = join(REPO, 'test', '.cache', 'examples', key);
    const image = join(cache, 'sample.qcow2');
    const raw = join(cache, 'sample.raw');
    const MiB = 1024 * 1024;
    const root = process.getuid?.() === 0;

    before(() => {
      mkdirSync(cache, { recursive: true });
      const r = run('bash', [script, image]);
      assert.equal(r.status, 0, r.out);
      assert.ok(existsSync(image), r.out);
      if (!existsSync(raw)) assert.equal(run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', image, raw]).status, 0);
    });

    it('makes a consistent 64 MiB qcow2 (qemu-img info/check)', () => {
      const info = JSON.parse(run('qemu-img', ['info', '--output=json', image]).stdout);
      assert.equal(info.format, 'qcow2');
      assert.equal(info['virtual-size'], 64 * MiB);
      const check = run('qemu-img', ['check', image]);
      assert.equal(check.status, 0, check.out);
      assert.match(check.out, /No errors were found/);
    });

    it('holds a GPT with a boot partition and an LVM partition (sgdisk)', () => {
      const r = run('sgdisk', ['-p', raw]);
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /^\s+1\s+2048\s+34815\s+16\.0 MiB\s+8300\s+boot$/m);
      assert.match(r.out, root ? /^\s+2\s+34816\s+129023\s+46\.0 MiB\s+8E00\s+lvm$/m : /^\s+2\s+34816\s+129023\s+46\.0 MiB\s+8300\s+root$/m);
    });

    it('has ext4 with the GRUB config on partition 1 (debugfs, e2fsck)', () => {
      const boot = join(cache, 'boot.img');
      assert.equal(run('dd', [`if=${raw}`, `of=${boot}`, 'bs=1M', 'skip=1', 'count=16', 'status=none']).status, 0);
      assert.match(run('debugfs', ['-R', 'cat /grub/grub.cfg', boot]).out, /linux \/vmlinuz root=\/dev\/mapper\/vg_sample-root/);
      assert.equal(run('e2fsck', ['-fn', boot]).status, 0);
    });

    it(root ? 'has VG vg_sample with LV root on partition 2, holding ext4 with the files (pvs/lvs, debugfs)' :
      'has ext4 with the files on partition 2 (no loop device without root: debugfs)', () => {
      let fsOffsetMiB = 17;
      if (root) {
        const lvm = mkdtempSync(join(tmpdir(), 'virt-studio-lvm-'));
        const loop = run('losetup', ['--find', '--show', '--read-only', '--offset', String(17 * MiB), '--sizelimit', String(46 * MiB), raw]).stdout.trim();
        assert.match(loop, /^\/dev\/loop\d+$/);
        try {
          const conf = `devices { filter = [ "a|^${loop}$|", "r|.*|" ] use_devicesfile = 0 obtain_device_list_from_udev = 0 }\n`
            + 'global { activation = 0 }\nactivation { udev_sync = 0 udev_rules = 0 }\n';
          spawnSync('sh', ['-c', 'cat > "$0"', join(lvm, 'lvm.conf')], { input: conf });
          const env = { LVM_SYSTEM_DIR: lvm };
          const lvs = run('lvs', ['--noheadings', '--units', 'b', '--nosuffix', '-o', 'vg_name,lv_name,lv_size,seg_pe_ranges', '--separator', ',', 'vg_sample'], { env });
          assert.equal(lvs.status, 0, lvs.out);
          const [vg, lv, size, ranges] = lvs.stdout.trim().split(',');
          assert.deepEqual([vg, lv, Number(size)], ['vg_sample', 'root', 36 * MiB]);
          const pvs = run('pvs', ['--noheadings', '--units', 'b', '--nosuffix', '-o', 'pe_start', loop], { env });
          const firstPe = Number(/:(\d+)-/.exec(ranges)![1]);
          fsOffsetMiB = 17 + (Number(pvs.stdout.trim()) + firstPe * 4 * MiB) / MiB;
        } finally {
          run('losetup', ['-d', loop]);
          rmSync(lvm, { recursive: true, force: true });
        }
      }
      const fs = join(cache, 'root.img');
      assert.equal(run('dd', [`if=${raw}`, `of=${fs}`, 'bs=1M', `skip=${fsOffsetMiB}`, `count=${root ? 36 : 46}`, 'status=none']).status, 0);
      assert.equal(run('e2fsck', ['-fn', fs]).status, 0);
      assert.match(run('debugfs', ['-R', 'cat /home/alice/README.txt', fs]).out, /Hello from the sample image\./);
      assert.match(run('debugfs', ['-R', 'stat /home/alice/notes.txt', fs]).out, /Fast link dest: "README.txt"/);
      const syslog = run('debugfs', ['-R', 'cat /var/log/syslog', fs]).stdout.trim().split('\n');
      assert.equal(syslog.filter((l) => l.startsWith('line ')).length, 20000);
      assert.equal(syslog[syslog.length - 1], 'line 20000');
    });
  });
});
