// validate(): well-formedness, then the RelaxNG schema, then libvirt's define-time checks,
// merged into LSP diagnostics with stable codes.
import { dirname } from 'node:path';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver-types';
import { URI } from 'vscode-uri';
import { SchemaError } from '../relaxng/loader';
import type { Issue } from '../relaxng/validator';
import type { Cancellation } from '../service';
import type { LibvirtAnalyzer } from './analysis';
import { domainChecks, type Finding } from './defineChecks';
import { ROOT_SCHEMAS } from './schemaSource';

export const SOURCE = 'libvirt';

const SEVERITY = { error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning, information: DiagnosticSeverity.Information };

/** Codes whose message gains a note that plain `virsh define` would silently lose the node. */
const DROPPED = new Set(['rng-unknown-element', 'rng-element-not-allowed', 'rng-unknown-attribute']);

export function validateDocument(an: LibvirtAnalyzer, doc: TextDocument, cancel?: Cancellation): Diagnostic[] {
  const xml = an.parse(doc);
  const diag = (f: { code: string; message: string; start: number; end: number; data?: unknown }, severity: DiagnosticSeverity): Diagnostic => ({
    range: { start: doc.positionAt(f.start), end: doc.positionAt(f.end) },
    severity, code: f.code, source: SOURCE, message: f.message, ...(f.data !== undefined ? { data: f.data } : {}),
  });
  const out: Diagnostic[] = xml.errors.map((e) => diag(e, DiagnosticSeverity.Error));
  const root = xml.root;
  if (!root || cancel?.isCancellationRequested) return out;
  if (!ROOT_SCHEMAS[root.local]) {
    out.push(diag({ code: 'libvirt-unknown-root', message: `<${root.name}> is not a libvirt document root (expected one of ${Object.keys(ROOT_SCHEMAS).join(', ')})`, start: root.nameStart, end: root.nameEnd }, DiagnosticSeverity.Error));
    return out;
  }
  if (!an.info.dir) {
    out.push(diag({
      code: 'libvirt-no-schema', start: root.nameStart, end: root.nameEnd,
      message: `no libvirt schemas found (tried ${an.info.tried.map((t) => `${t.dir}: ${t.reason}`).join('; ')}); set virtStudio.libvirt.schemaDir`,
    }, DiagnosticSeverity.Warning));
  } else {
    let issues: Issue[] = [];
    try {
      const schema = an.schema(root.local);
      if (schema) issues = schema.validate(root);
    } catch (err) {
      if (!(err instanceof SchemaError)) throw err;
      out.push(diag({ code: 'libvirt-schema-error', message: `cannot use the libvirt schema: ${err.message}`, start: root.nameStart, end: root.nameEnd }, DiagnosticSeverity.Warning));
    }
    for (const i of issues) {
      const message = DROPPED.has(i.code) && root.local === 'domain'
        ? `${i.message} (without --validate, \`virsh define\` silently drops it)`
        : i.message;
      out.push(diag({ ...i, message }, DiagnosticSeverity.Error));
    }
  }
  if (root.local === 'domain' && !cancel?.isCancellationRequested) {
    const folder = doc.uri.startsWith('file:') ? dirname(URI.parse(doc.uri).fsPath) : undefined;
    const findings: Finding[] = domainChecks(root, {
      checkSourceFiles: an.settings.checkSourceFiles, workspaceFolders: an.settings.workspaceFolders, documentFolder: folder,
    });
    for (const f of findings) {
      // A define-time finding on the very range of a schema error: one diagnostic, the schema's
      // code (the document is schema-invalid) with libvirt's own explanation and fix added.
      const same = out.find((d) => String(d.code).startsWith('rng-') && doc.offsetAt(d.range.start) === f.start && doc.offsetAt(d.range.end) === f.end);
      if (same) {
        same.message = `${same.message} (libvirt: ${f.message})`;
        same.data = { ...(same.data as object), ...f.data, defineCode: f.code };
      } else {
        out.push(diag(f, SEVERITY[f.severity]));
      }
    }
  }
  return out;
}
