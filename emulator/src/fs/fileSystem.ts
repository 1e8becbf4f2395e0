// The one filesystem contract the CLI and the VS Code FileSystemProvider use. Drivers (ext, FAT,
// ISO 9660) implement FsDriver over inodes; VolumeFileSystem adds paths, symlinks and streaming.
export type FileType = 'file' | 'dir' | 'symlink' | 'other';

export interface Inode {
  /** Driver-specific identity (ext inode number, FAT first cluster, ISO record offset...). */
  readonly id: number;
  readonly type: FileType;
  readonly size: number;
  /** POSIX mode bits including the S_IFMT type (synthesised where the format has none). */
  readonly mode: number;
  /** Modification time, seconds since the Unix epoch (UTC). */
  readonly mtime: number;
  readonly uid: number;
  readonly gid: number;
  readonly nlink: number;
}

export interface DirEntry { name: string; inode: Inode }

/** The file type encoded in POSIX mode bits (S_IFMT). */
export function fileTypeOfMode(mode: number): FileType {
  switch (mode & 0o170000) {
    case 0o100000: return 'file';
    case 0o040000: return 'dir';
    case 0o120000: return 'symlink';
    default: return 'other';
  }
}

export interface FsDriver {
  /** blkid TYPE (ext4, vfat, iso9660). */
  readonly type: string;
  /** Volume label, when the format has one. */
  readonly label?: string;
  root(): Promise<Inode>;
  /** The entries of a directory, without "." and "..". */
  list(dir: Inode): Promise<DirEntry[]>;
  /** Finds one name in a directory; drivers with indexed directories may do better than list(). */
  lookup?(dir: Inode, name: string): Promise<Inode | undefined>;
  readlink(link: Inode): Promise<string>;
  /** `length` bytes of a file at `offset` (the caller clamps to the file size). */
  read(file: Inode, offset: number, length: number): Promise<Uint8Array>;
}

/** A positioned, user-facing filesystem error (bad path, corruption). */
export class FsError extends Error {
  constructor(message: string, readonly code: 'ENOENT' | 'ENOTDIR' | 'EISDIR' | 'ELOOP' | 'EINVAL' | 'EIO' = 'EIO') {
    super(message);
    this.name = 'FsError';
  }
}
