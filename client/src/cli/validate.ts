// `virt-studio validate [--json] FILE...`: the language server's validation, for terminals and CI.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver-types';
import { rootElementName } from '../../../server/src/documentKind';
import { Languages } from '../../../server/src/languages';
import { DEFAULT_SETTINGS } from '../../../server/src/service';
import { parseArgs, UsageError } from './usage';

export const validateHelp = `Usage: virt-studio validate [--json] FILE...

Validates libvirt XML (domain, network, pool, volume, ...) against libvirt's RelaxNG schemas plus
define-time checks, and LVM configuration (lvm.conf, lvmlocal.conf, profiles) and metadata backups.

Options:
  --json   print a JSON array, one object per file:
           {"file","kind","valid","diagnostics":[{"severity","code","message","range"}]}
           (ranges are LSP 0-based line/character positions)

Exit status: 0 no errors, 1 errors found, 2 usage or I/O error.`;

const SEVERITY: Record<number, string> = {
  [DiagnosticSeverity.Error]: 'error',
  [DiagnosticSeverity.Warning]: 'warning',
  [DiagnosticSeverity.Information]: 'information',
  [DiagnosticSeverity.Hint]: 'hint',
};

export interface FileReport {
  file: string;
  kind: string;
  valid: boolean;
  diagnostics: {
    severity: string; code: string | number | null; message: string;
    range: { start: { line: number; character: number }; end: { line: number; character: number } };
  }[];
}

export async function validateFile(file: string, languages: Languages): Promise<FileReport> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  });
  const doc = TextDocument.create(pathToFileURL(resolve(file)).toString(), 'plaintext', 1, text);
  const kind = languages.kindOf(doc);
  const service = languages.serviceFor(doc);
  const diagnostics: Diagnostic[] = service ? await service.validate(doc) : [];
  return {
    file,
    kind: kind === 'libvirt-other' ? rootElementName(text) ?? 'unknown' : kind,
    valid: service !== undefined && !diagnostics.some((d) => d.severity === DiagnosticSeverity.Error),
    diagnostics: diagnostics.map((d) => ({
      severity: SEVERITY[d.severity ?? DiagnosticSeverity.Error],
      code: d.code ?? null,
      message: typeof d.message === 'string' ? d.message : d.message.value,
      range: d.range,
    })),
  };
}

export async function runValidate(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { flags: ['--json', '--help', '-h'] });
  if (args.flags.has('--help') || args.flags.has('-h')) { console.log(validateHelp); return 0; }
  if (args.positionals.length === 0) throw new UsageError('validate needs at least one FILE (see virt-studio validate --help)');
  const languages = new Languages({ ...DEFAULT_SETTINGS, workspaceFolders: [process.cwd()] });
  const reports: FileReport[] = [];
  for (const file of args.positionals) reports.push(await validateFile(file, languages));
  if (args.flags.has('--json')) {
    console.log(JSON.stringify(reports, null, 2));
  } else {
    for (const r of reports) {
      if (r.kind === 'unknown') console.log(`${r.file}: not a libvirt XML or LVM file`);
      for (const d of r.diagnostics) {
        console.log(`${r.file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.severity}: ${d.message}${d.code !== null ? ` [${d.code}]` : ''}`);
      }
      if (r.valid && r.diagnostics.length === 0) console.log(`${r.file}: valid ${r.kind}`);
    }
  }
  return reports.every((r) => r.valid) ? 0 : 1;
}
