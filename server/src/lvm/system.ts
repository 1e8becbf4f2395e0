// What the installed lvm2 can tell us: its version, and the description of every setting
// (`lvmconfig --type default --withcomments`). Read at run time and cached per process; lvm2's
// comment text is never stored in the repository. Every call is bounded by a timeout and runs
// against an empty LVM_SYSTEM_DIR so a broken /etc/lvm/lvm.conf cannot get in the way.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathSegments } from './effective';

let emptyDir: string | undefined;
function isolatedEnv(): NodeJS.ProcessEnv {
  if (!emptyDir) {
    const dir = mkdtempSync(join(tmpdir(), 'virt-studio-lvm-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    emptyDir = dir;
  }
  return { ...process.env, LVM_SYSTEM_DIR: emptyDir, LVM_SUPPRESS_FD_WARNINGS: '1', LC_ALL: 'C' };
}

function run(cmd: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: isolatedEnv(), timeout: 10_000, maxBuffer: 8 << 20 }, (err, stdout) => {
      resolve(err && !stdout ? undefined : stdout);
    });
  });
}

let versionPromise: Promise<string | undefined> | undefined;

/** The installed lvm2 release (e.g. '2.03.16'), or undefined when lvm2 is not installed. */
export function installedLvmVersion(): Promise<string | undefined> {
  versionPromise ??= run('lvm', ['version']).then((out) => /LVM version:\s*(\d+\.\d+\.\d+)/.exec(out ?? '')?.[1]);
  return versionPromise;
}

/** Parses `lvmconfig --withcomments` output into path -> description (markdown paragraphs). */
export function parseLvmconfigComments(out: string): Map<string, string> {
  const map = new Map<string, string>();
  let path: string | undefined;
  let lines: string[] = [];
  const flush = (): void => {
    if (path && lines.length) map.set(path.replace(/<[^>]*>/g, '#'), lines.join('\n').trim());
    path = undefined;
    lines = [];
  };
  for (const raw of out.split('\n')) {
    const line = raw.trim();
    const head = /^# Configuration (?:option|section) ([^\s]+)\.$/.exec(line);
    if (head) {
      flush();
      path = head[1];
      continue;
    }
    if (!path) continue;
    if (!line.startsWith('#') || /^# (This configuration|Available since|Since version)/.test(line)) {
      if (!line.startsWith('#')) flush();
      continue;
    }
    // The commented-out default (`# key=value`) ends the description.
    if (/^# [\w<>#-]+ ?=/.test(line) && pathSegments(path).pop()?.name === line.slice(2).split(/ ?=/)[0]) {
      flush();
      continue;
    }
    lines.push(line.replace(/^# ?/, ''));
  }
  flush();
  return map;
}

let descriptionsPromise: Promise<Map<string, string>> | undefined;

/** Descriptions from the installed lvm2; an empty map when it is not installed. */
export function lvmDescriptions(): Promise<Map<string, string>> {
  descriptionsPromise ??= run('lvmconfig', ['--type', 'default', '--withcomments', '--withversions', '--showdeprecated', '--showunsupported'])
    .then((out) => (out ? parseLvmconfigComments(out) : new Map()));
  return descriptionsPromise;
}
