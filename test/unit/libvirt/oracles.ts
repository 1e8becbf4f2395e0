// Real tools our verdicts are compared with: xmllint --relaxng (libxml2) run in batches with its
// verdicts cached on file content, virsh's test driver, and the corpus from Debian's libvirt source.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver-types';
import { pathToFileURL } from 'node:url';
import { rootElementName } from '../../../server/src/documentKind';
import { createLibvirtService } from '../../../server/src/libvirt';
import { ROOT_SCHEMAS, SYSTEM_SCHEMA_DIR } from '../../../server/src/libvirt/schemaSource';
import { DEFAULT_SETTINGS } from '../../../server/src/service';

export const REPO = resolve(__dirname, '..', '..', '..');
export const CACHE = join(REPO, 'test', '.cache', 'libvirt');

export function requireTool(cmd: string, pkg: string): void {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} is missing: install the Debian package ${pkg} (scripts/apt/libvirt.txt)`);
}

/** Builds (or reuses) the corpus; returns the file paths. */
export function corpusFiles(): string[] {
  const dir = execFileSync('bash', [join(REPO, 'test', 'fixtures', 'libvirt', 'corpus.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 15 * 60_000 }).trim().split('\n').pop()!;
  return readdirSync(dir).filter((f) => f.endsWith('.xml')).sort().map((f) => join(dir, f));
}

export type Verdict = 'valid' | 'invalid' | 'not-well-formed';

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

/**
 * xmllint's verdict for each file against the installed schema for its root, batched per schema
 * and cached on (file content, schema file content).
 */
export function xmllintVerdicts(files: string[], schemaDir = SYSTEM_SCHEMA_DIR): Map<string, Verdict> {
  requireTool('xmllint', 'libxml2-utils');
  mkdirSync(CACHE, { recursive: true });
  const cacheFile = join(CACHE, 'xmllint-verdicts.json');
  const cache: Record<string, Verdict> = existsSync(cacheFile) ? JSON.parse(readFileSync(cacheFile, 'utf8')) : {};
  const schemaHash = new Map<string, string>();
  const keyOf = new Map<string, string>();
  const todo = new Map<string, string[]>();
  const out = new Map<string, Verdict>();
  for (const f of files) {
    const text = readFileSync(f);
    const root = rootElementName(text.toString('utf8')) ?? '';
    const rng = join(schemaDir, ROOT_SCHEMAS[root] ?? 'domain.rng');
    if (!schemaHash.has(rng)) schemaHash.set(rng, sha(readFileSync(rng)));
    const key = `${sha(text)}:${schemaHash.get(rng)}`;
    keyOf.set(f, key);
    if (cache[key]) { out.set(f, cache[key]); continue; }
    let list = todo.get(rng);
    if (!list) todo.set(rng, (list = []));
    list.push(f);
  }
  for (const [rng, list] of todo) {
    for (let i = 0; i < list.length; i += 200) {
      const batch = list.slice(i, i + 200);
      const r = spawnSync('xmllint', ['--noout', '--relaxng', rng, ...batch], { encoding: 'utf8', maxBuffer: 256 << 20 });
      const text = `${r.stdout}\n${r.stderr}`;
      for (const f of batch) {
        const verdict: Verdict = text.includes(`${f} validates\n`) ? 'valid' : text.includes(`${f} fails to validate\n`) ? 'invalid' : 'not-well-formed';
        out.set(f, verdict);
        cache[keyOf.get(f)!] = verdict;
      }
    }
  }
  if (todo.size) writeFileSync(cacheFile, JSON.stringify(cache));
  return out;
}

/** Our service, configured like the CLI, with the system schemas. */
export function service(overrides: Partial<typeof DEFAULT_SETTINGS> = {}) {
  return createLibvirtService({ ...DEFAULT_SETTINGS, checkSourceFiles: false, ...overrides });
}

export function docFor(file: string, text = readFileSync(file, 'utf8')): TextDocument {
  return TextDocument.create(pathToFileURL(file).toString(), 'libvirt-xml', 1, text);
}

/** Errors that correspond to xmllint's verdict: well-formedness and schema (not define-time). */
export function schemaErrors(diags: Diagnostic[]): Diagnostic[] {
  return diags.filter((d) => d.severity === DiagnosticSeverity.Error && /^(xml|rng)-/.test(String(d.code)));
}

export interface VirshResult { ok: boolean; output: string }

/** `virsh -c test:///default define FILE` (in-process test driver, no daemon). */
export function virshDefine(xml: string, name = 'define-check'): VirshResult {
  requireTool('virsh', 'libvirt-clients');
  const dir = join(CACHE, 'virsh');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.xml`);
  writeFileSync(file, xml);
  const r = spawnSync('virsh', ['-q', '-c', 'test:///default', 'define', file], { encoding: 'utf8', timeout: 30_000 });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
}

/** Runs several virsh commands in one test-driver connection (state lives only as long as it). */
export function virshBatch(commands: string): string {
  requireTool('virsh', 'libvirt-clients');
  const r = spawnSync('virsh', ['-q', '-c', 'test:///default', commands], { encoding: 'utf8', timeout: 30_000 });
  return `${r.stdout}${r.stderr}`;
}

export { rng } from '../../support/random';
