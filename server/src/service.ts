// The contract between the thin LSP server (server.ts) and each language's pure modules.
// Nothing here knows about connections or vscode: mocha and the CLI call these directly.
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type {
  CodeAction, CompletionItem, Diagnostic, DocumentSymbol, FoldingRange, Hover, Position, Range,
} from 'vscode-languageserver-types';

/** Lets long validations stop early when the document changed again. */
export interface Cancellation {
  readonly isCancellationRequested: boolean;
}

export const NEVER_CANCELLED: Cancellation = { isCancellationRequested: false };

export interface LanguageService {
  validate(doc: TextDocument, cancel?: Cancellation): Promise<Diagnostic[]>;
  complete?(doc: TextDocument, pos: Position): CompletionItem[] | Promise<CompletionItem[]>;
  hover?(doc: TextDocument, pos: Position): Hover | null | Promise<Hover | null>;
  symbols?(doc: TextDocument): DocumentSymbol[];
  folding?(doc: TextDocument): FoldingRange[];
  codeActions?(doc: TextDocument, range: Range, diagnostics: Diagnostic[]): CodeAction[];
}

/** Settings the server passes down; each field mirrors a `virtStudio.*` setting. */
export interface ServiceSettings {
  /** virtStudio.libvirt.schemaDir ('' = default search order). */
  libvirtSchemaDir: string;
  /** Folder bundled with the extension holding a copy of libvirt's schemas, if any. */
  bundledSchemaDir?: string;
  /** virtStudio.libvirt.checkSourceFiles */
  checkSourceFiles: boolean;
  /** Workspace folders (file system paths) that relative disk paths resolve against. */
  workspaceFolders: string[];
  /** virtStudio.lvm.version: 'auto' or an exact version such as '2.03.16'. */
  lvmVersion: string;
}

export const DEFAULT_SETTINGS: ServiceSettings = {
  libvirtSchemaDir: '',
  checkSourceFiles: true,
  workspaceFolders: [],
  lvmVersion: 'auto',
};
