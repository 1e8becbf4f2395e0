// Custom DAP requests and events between the `virt` debug adapter and the extension's views
// (serial terminal, screen, page-table walker, GDT/IDT viewer, status bar), declared once.
import type { CpuSnapshot, Stats, TextScreen } from '../../../emulator/src/worker/protocol';

export interface CustomRequest<A, R> { readonly command: string; readonly _args?: A; readonly _result?: R }
export interface CustomEvent<B> { readonly event: string; readonly _body?: B }

const request = <A, R>(command: string): CustomRequest<A, R> => ({ command });
const event = <B>(name: string): CustomEvent<B> => ({ event: name });

/** Bytes typed into the serial terminal, for COM1 (port 0) or COM2 (port 1). */
export const SerialInputRequest = request<{ port: number; data: string }, void>('virtSerialInput');
/** PS/2 set-1 scancodes from the screen panel. */
export const KeyboardRequest = request<{ scancodes: number[] }, void>('virtKeyboard');
export const ScreenRequest = request<void, { screen: TextScreen | null }>('virtScreen');
export const StatsRequest = request<void, Stats>('virtStats');
/** Walks the guest page tables for a linear address. */
export const TranslateRequest = request<{ linear: number }, { physical: number | null; pde?: number; pte?: number; fault?: string }>('virtTranslate');
/** Reads and decodes the GDT and IDT of the stopped guest. */
export const DescriptorTablesRequest = request<void, { cpu: CpuSnapshot; gdt: DescriptorEntry[]; idt: DescriptorEntry[] }>('virtDescriptorTables');

export interface DescriptorEntry {
  index: number;
  raw: string;
  kind: string;
  base?: number;
  limit?: number;
  selector?: number;
  offset?: number;
  dpl: number;
  present: boolean;
}

/** Serial output from the guest (UTF-8-safe: raw bytes as latin1 in `data`). */
export const SerialOutputEvent = event<{ port: number; data: string }>('virtSerialOutput');
export const ScreenChangedEvent = event<Record<string, never>>('virtScreenChanged');
export const StatsEvent = event<Stats>('virtStats');
