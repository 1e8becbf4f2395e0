// A compiled RelaxNG schema: loaded once per file and cached, with its derivative memo tables, so
// validating another document (or the same one again) reuses everything computed before.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Derivatives } from './derivative';
import { Loader } from './loader';
import { listNames } from './nameClass';
import { K, type Pattern } from './patterns';
import { type Issue, type Probe, Validator } from './validator';
import type { XmlElement } from './xmlParser';

export class CompiledSchema {
  readonly derivatives: Derivatives;
  /** Local names of every element the schema declares. */
  readonly elementNames = new Set<string>();
  /** Element patterns by local name (several per name: <source> has many shapes). */
  readonly elementsByName = new Map<string, Pattern[]>();

  constructor(readonly file: string, readonly start: Pattern, loader: Loader) {
    this.derivatives = new Derivatives(loader.f);
    for (const el of loader.elements) {
      for (const n of listNames(el.nc!)) {
        this.elementNames.add(n.local);
        let list = this.elementsByName.get(n.local);
        if (!list) this.elementsByName.set(n.local, (list = []));
        list.push(el);
      }
    }
    this.filesRead = loader.filesRead;
  }

  readonly filesRead: string[];

  validate(root: XmlElement, probe?: Probe): Issue[] {
    const v = new Validator(this.derivatives, this.elementNames, probe);
    v.validateRoot(this.start, root);
    return v.issues;
  }

  /** Does the start pattern accept a root element of this name? */
  acceptsRoot(ns: string, local: string): boolean {
    return this.derivatives.startTagOpen(this.start, ns, local).kind !== K.NotAllowed;
  }
}

const compiled = new Map<string, { mtimeMs: number; schema: CompiledSchema }>();

/**
 * Derivatives intern every pattern they build; a whole libvirt test corpus adds ~60k to the
 * schema's ~7k. Past this bound (a long session of unusual documents) start afresh rather than
 * grow without limit.
 */
const MAX_PATTERNS = 1_000_000;

/** Compiles (or returns the cached compile of) the schema whose top file is `file`. */
export function compileSchema(file: string): CompiledSchema {
  const path = resolve(file);
  const mtimeMs = statSync(path).mtimeMs;
  const hit = compiled.get(path);
  if (hit && hit.mtimeMs === mtimeMs && hit.schema.derivatives.f.size < MAX_PATTERNS) return hit.schema;
  const loader = new Loader();
  const start = loader.loadSchema(path);
  const schema = new CompiledSchema(path, start, loader);
  compiled.set(path, { mtimeMs, schema });
  return schema;
}
