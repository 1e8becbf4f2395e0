// Small shared pieces of the CLI: argument errors that become one line on stderr and exit 2.
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ParsedArgs {
  flags: Set<string>;
  options: Map<string, string[]>;
  positionals: string[];
}

/**
 * Parses `--flag`, `--opt value`/`--opt=value` and positionals. `valued` lists the options that
 * take a value; anything else starting with `-` that is not in `flags` is a usage error.
 */
export function parseArgs(argv: string[], spec: { flags?: string[]; valued?: string[] }): ParsedArgs {
  const flags = new Set<string>();
  const options = new Map<string, string[]>();
  const positionals: string[] = [];
  const known = new Set(spec.flags ?? []);
  const valued = new Set(spec.valued ?? []);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (arg.startsWith('-') && arg.length > 1) {
      const eq = arg.indexOf('=');
      const name = eq > 0 ? arg.slice(0, eq) : arg;
      if (valued.has(name)) {
        const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
        if (value === undefined) throw new UsageError(`${name} needs a value`);
        options.set(name, [...(options.get(name) ?? []), value]);
      } else if (known.has(name) && eq < 0) {
        flags.add(name);
      } else {
        throw new UsageError(`unknown option ${arg}`);
      }
    } else {
      positionals.push(arg);
    }
  }
  return { flags, options, positionals };
}
