// What a format driver reports about one image file, and what openImage hands to callers.
import type { ExtentDevice } from './extentDevice';
import type { FileDevice } from './fileDevice';

export type ImageFormat = 'raw' | 'qcow2' | 'vmdk' | 'vhdx' | 'vdi' | 'vpc';

/** One internal snapshot (qcow2), with qemu-img's JSON names. */
export interface SnapshotInfo {
  id: string;
  name: string;
  'vm-state-size': number;
  'date-sec': number;
  'date-nsec': number;
  'vm-clock-sec': number;
  'vm-clock-nsec': number;
  icount?: number;
  /** Virtual disk size when the snapshot was taken (qcow2 v3 extra data), else the image's. */
  diskSize: number;
}

/** A reference to a backing/parent file exactly as the image stores it. */
export interface BackingRef {
  /** The name as stored (may be relative to the image's directory). */
  name: string;
  /** The format the image says its backing file has, if it says. */
  format?: string;
  /** Extra candidate names (VHDX parent locators carry several), tried after `name`. */
  alternatives?: string[];
}

/** What a driver returns for one file. */
export interface ParsedImage {
  format: ImageFormat;
  device: ExtentDevice;
  virtualSize: number;
  clusterSize?: number;
  backing?: BackingRef;
  snapshots: SnapshotInfo[];
  /** `format-specific` as qemu-img names it, when qemu-img has one for this format. */
  formatSpecific?: { type: string; data: Record<string, unknown> };
  dirty?: boolean;
  /** Header extensions found (qcow2), for info output. */
  headerExtensions?: { type: string; name: string; length: number }[];
  /** Every file this layer reads (descriptor + extents), for actual-size. */
  files: FileDevice[];
  /** The device as of an internal snapshot (qcow2), by id or name. */
  openSnapshot?(idOrName: string): Promise<ExtentDevice>;
}

export interface OpenOptions {
  /**
   * Decides whether a backing file may be opened. Called with the resolved absolute path and the
   * path of the image that names it. Return false to stop the chain there (reads of unallocated
   * ranges then fail with an ImageError naming the refused file). Default: follow.
   */
  allowBacking?: (resolvedPath: string, referencedBy: string) => boolean;
  /** Do not open backing files at all (info on a single layer). */
  noBacking?: boolean;
  /** Longest backing chain accepted (default 64). */
  maxChainDepth?: number;
  /** Force the format instead of detecting it. */
  format?: ImageFormat;
}

export interface OpenedImage {
  filename: string;
  format: ImageFormat;
  /** The whole virtual disk, backing chain included. */
  device: ExtentDevice;
  virtualSize: number;
  /** Bytes the image's files take on the host (allocated blocks). */
  actualSize: number;
  clusterSize?: number;
  backingFilename?: string;
  fullBackingFilename?: string;
  backingFormat?: string;
  /** The opened backing image, when it was followed. */
  backing?: OpenedImage;
  /** Why the backing file was not followed, when it was not. */
  backingRefused?: string;
  snapshots: SnapshotInfo[];
  formatSpecific?: { type: string; data: Record<string, unknown> };
  dirty?: boolean;
  headerExtensions?: { type: string; name: string; length: number }[];
  /** Files of this layer (descriptor, extents), not of its backing chain. */
  files: string[];
  /** The disk as of an internal snapshot, over the same backing chain. */
  openSnapshot(idOrName: string): Promise<ExtentDevice>;
  /** Closes this image and its whole backing chain. */
  close(): Promise<void>;
}
