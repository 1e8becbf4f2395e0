// Time to list a 10,000-file ext4 tree recursively (names + attributes, like `ls -lR`) inside
// GPT → LVM, opened from scratch each round. Anchor: debugfs listing the same directories
// (`ls -l` of each) on the same image, through its ?offset= syntax straight at the LV.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openImage } from '../../emulator/src/block/open';
import { openFileSystem } from '../../emulator/src/fs/openFileSystem';
import { discoverVolumes } from '../../emulator/src/volumes/discover';
import { report } from '../support/bench';
import { CLI } from '../support/cli';
import { fixture } from '../unit/imgfs/fixtures';

const ROUNDS = 7;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function listTree(image: string): Promise<number> {
  const img = await openImage(image);
  try {
    const { volumes } = await discoverVolumes([{ device: img.device, path: image }]);
    const lv = volumes.find((v) => v.name === 'vgbench/root');
    if (!lv) throw new Error('vgbench/root not found');
    const fs = await openFileSystem(await lv.open());
    let n = 0;
    for await (const { entry } of fs.walk('/')) if (entry.type === 'file') n++;
    return n;
  } finally {
    await img.close();
  }
}

async function main(): Promise<void> {
  const dir = fixture('bench');
  const image = join(dir, 'disk.img');
  const timeList = async (img: string) => {
    const samples: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now();
      const files = await listTree(img);
      samples.push(performance.now() - t0);
      if (files !== 10000) throw new Error(`listed ${files} files, expected 10000`);
    }
    return samples;
  };
  const ours = await timeList(image);
  const oursQcow2 = await timeList(join(dir, 'disk.qcow2'));
  const lvOffset = readFileSync(join(dir, 'lv.offset'), 'utf8').trim();
  const anchor: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    const d = spawnSync('debugfs', ['-f', join(dir, 'debugfs.cmds'), `${image}?offset=${lvOffset}`], { encoding: 'utf8', maxBuffer: 64 << 20 });
    anchor.push(performance.now() - t0);
    if (d.status !== 0 || (d.stdout.match(/file-\d{3}\.txt/g) ?? []).length !== 10000) throw new Error(`debugfs failed: ${d.stderr.slice(-500)}`);
  }
  const a = median(anchor), o = median(ours);
  report({ name: 'imgfs: list 10k-file ext4 tree in GPT→LVM (in-process, fresh open)', value: o, unit: 'ms', anchor: { name: 'debugfs ls -l ×101', value: a }, ratio: o / a, note: 'ours/anchor, lower is better; target < 1000 ms' });
  report({ name: 'imgfs: list 10k-file ext4 tree in qcow2→GPT→LVM (in-process, fresh open)', value: median(oursQcow2), unit: 'ms', anchor: { name: 'debugfs ls -l ×101 (raw)', value: a }, ratio: median(oursQcow2) / a, note: 'ours/anchor, lower is better; target < 1000 ms' });
  const cli: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    const c = spawnSync(process.execPath, [CLI, 'image', 'ls', '-R', '--json', image, 'vgbench/root:/'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    cli.push(performance.now() - t0);
    if (c.status !== 0) throw new Error(`CLI failed: ${c.stderr}`);
  }
  report({ name: 'imgfs: virt-studio image ls -R --json (whole process) for the same tree', value: median(cli), unit: 'ms', anchor: { name: 'debugfs ls -l ×101', value: a }, ratio: median(cli) / a, note: 'ours/anchor, includes Node start-up' });
}

main().catch((err) => { console.error(err); process.exit(1); });
