// Public surface of the CPU for the machine, the worker and the debugger.
//
//   const mem = new PhysicalMemory(ramBytes);          // RAM + ROM + MMIO + A20 + code-write notify
//   mem.addRom(0xf0000, bios64k); mem.addRom(0xfffe0000, bios128k);
//   mem.addMmio(0xa0000, 0x20000, vgaHandler);         // MmioHandler: read8/write8 (+16/32 optional)
//   const cpu = new Cpu({ memory: mem, io: ioBus, interrupts: pic }); // starts at F000:FFF0 (reset)
//   pic raises INTR -> cpu.notifyInterrupt();  NMI -> cpu.raiseNmi()
//   const why = cpu.run(100_000);  // 'budget' | 'halted' | 'breakpoint' | 'watchpoint' | 'step' | 'triple-fault' | 'stopped'
//   cpu.step();                    // one instruction (or one interrupt delivery)
//   cpu.breakpoints.add(linear); cpu.watchpoints.push({ space, start, length, access }); cpu.hooksChanged();
//   cpu.lastWatchHit, cpu.instructions, cpu.shutdownReason, cpu.saveState()/restoreState(s)
//   cpu.blocks.hotThreshold = Infinity;  // interpreter only (translated blocks off), e.g. for A/B runs
//   readRegister(cpu, 'eax' | 'cs.base' | 'cr3' | 'st0' | ...), writeRegister(...), registerSnapshot(cpu)
export { Cpu, CPU_FAULT, type CpuOptions, type CpuState, type InterruptSource, type StopReason, type Watchpoint, type WatchHit } from './cpu';
export { CPUID_FEATURES, CPUID_SIGNATURE } from './execute';
export { REGISTER_NAMES, readRegister, registerSnapshot, writeRegister } from './registers';
export { PhysicalMemory, type MmioHandler } from '../memory/physicalMemory';
