// The `virt-studio` command: one entry for the same cores the extension uses.
import packageJson from '../../../package.json';
import { UsageError } from './usage';

const help = `Usage: virt-studio <command> [options]

Commands:
  validate   check libvirt XML and LVM configuration/metadata files
  image      look inside disk images (info, volumes, ls, cat, convert)
  boot       boot a domain XML or a kernel in the built-in x86 emulator

Run "virt-studio <command> --help" for a command's options.`;

// Loaded on demand: a command's start-up then compiles and runs only its own modules.
const commands: Record<string, (argv: string[]) => Promise<number>> = {
  validate: async (argv) => (await import('./validate')).runValidate(argv),
  image: async (argv) => (await import('./image')).runImage(argv),
  boot: async (argv) => (await import('./boot')).runBoot(argv),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(help);
    return command ? 0 : 2;
  }
  if (command === '--version' || command === '-V') {
    console.log(packageJson.version);
    return 0;
  }
  const run = commands[command];
  if (!run) throw new UsageError(`unknown command "${command}" (see virt-studio --help)`);
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    // One clear line, never a stack trace; the stack is there for developers who ask for it.
    const e = err as Error;
    process.stderr.write(`virt-studio: ${e.message ?? String(err)}\n`);
    if (process.env.VIRT_STUDIO_DEBUG) process.stderr.write(`${e.stack}\n`);
    process.exitCode = err instanceof UsageError ? 2 : (err as { exitCode?: number }).exitCode ?? 2;
  },
);
