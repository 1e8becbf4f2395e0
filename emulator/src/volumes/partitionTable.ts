// What the partition-table readers (MBR, GPT) produce.
export interface Partition {
  /** Linux numbering: 1–4 MBR primary slots, 5+ logical partitions; GPT entry index + 1. */
  number: number;
  /** Byte offset and size within the disk. */
  start: number;
  size: number;
  /** MBR: the type byte as two hex digits ("83"); GPT: the type GUID. */
  type: string;
  /** GPT partition name (UTF-16 in the entry). */
  name?: string;
  /** GPT unique partition GUID. */
  uuid?: string;
  bootable?: boolean;
  /** MBR: primary, extended container, or logical. */
  role?: 'primary' | 'extended' | 'logical';
}

export interface PartitionTable {
  scheme: 'mbr' | 'gpt';
  sectorSize: number;
  partitions: Partition[];
  /** GPT disk GUID or MBR disk signature. */
  diskId?: string;
  /** Problems that did not prevent reading (a bad primary GPT header with a good backup, ...). */
  warnings: string[];
}
