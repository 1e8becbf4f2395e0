// `virt-studio boot`: owned by the machine/boot issue.
import { UsageError } from './usage';

export const bootHelp = `Usage: virt-studio boot DOMAIN.xml [options]
       virt-studio boot --kernel K [--initrd I] [--append S] [--disk IMG] [--cdrom ISO] [--memory MiB] [options]

Boots a guest in the built-in x86 PC emulator; the serial console is on stdout (stdin is
forwarded when interactive).

Options:
  --until TEXT     stop with exit 0 once TEXT appears on the serial console
  --timeout SEC    stop with exit 1 after SEC seconds of wall time

On exit prints "instructions=N seconds=S mips=M" on stderr.
Exit status: 0 TEXT seen, 1 timeout, 2 usage or I/O error, 3 guest crash.`;

export async function runBoot(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') { console.log(bootHelp); return 0; }
  throw new UsageError('boot: not available in this build yet');
}
