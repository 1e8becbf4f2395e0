// The findings of the LVM checks, independent of LSP so the CLI, tests and the disk-image
// explorer can use them directly. index.ts turns them into LSP diagnostics.
import type { Span } from './ast';

export type LvmSeverity = 'error' | 'warning' | 'info';

export interface LvmDiagnostic {
  /** Stable code, e.g. 'lvm.setting.unknown'; see CODES.md-style list in index.ts. */
  code: string;
  message: string;
  span: Span;
  severity: LvmSeverity;
  /** For quick fixes: a replacement name, or 'remove'. */
  fix?: { kind: 'rename'; name: string } | { kind: 'remove' };
}
