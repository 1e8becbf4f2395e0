// `virt-studio image info|volumes|ls|cat|convert`: owned by the disk-image issue.
import { UsageError } from './usage';

export const imageHelp = `Usage: virt-studio image <command> ...

Commands:
  info [--json] IMAGE                         format, virtual size, backing chain, snapshots
  volumes [--json] IMAGE...                   partitions, LVM logical volumes and their filesystems
  ls [-l] [-R] [--json] IMAGE... VOLUME:/PATH list a directory inside a volume
  cat IMAGE... VOLUME:/PATH                   write a file's bytes to stdout
  convert IMAGE OUT                           write the raw virtual disk content to OUT

Volumes are named disk, p1, p2, ... (partitions) and VG/LV (logical volumes).
Images are opened read-only and never modified.`;

export async function runImage(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') { console.log(imageHelp); return 0; }
  // Each subcommand loads only what it needs (convert never loads the filesystem readers).
  const rest = argv.slice(1);
  if (argv[0] === 'info') return (await import('./imageInfo')).runImageInfo(rest);
  if (argv[0] === 'convert') return (await import('./imageConvert')).runImageConvert(rest);
  if (argv[0] === 'volumes') return (await import('./imageFs')).runVolumes(rest);
  if (argv[0] === 'ls') return (await import('./imageFs')).runLs(rest);
  if (argv[0] === 'cat') return (await import('./imageFs')).runCat(rest);
  throw new UsageError(`unknown image command "${argv[0]}" (see virt-studio image --help)`);
}
