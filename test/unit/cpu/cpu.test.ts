// Unit tests of the CPU's interfaces: MMIO/ROM/A20/code-write notification through real
// instructions, run() stop reasons (halted, breakpoint, watchpoint, triple fault, budget),
// interrupts, snapshots, register access by name, and x87 stack faults (which QEMU's TCG does
// not model, so the differential suite cannot cover them). Code is assembled with nasm.
import { strict as assert } from 'node:assert';
import { type InterruptSource } from '../../../emulator/src/cpu/cpu';
import { readRegister, registerSnapshot, writeRegister } from '../../../emulator/src/cpu/registers';
import { machine } from './snippetMachine';

describe('cpu: interfaces', () => {
  it('dispatches 8/16/32-bit MMIO accesses and drops ROM writes', () => {
    const { cpu, mem } = machine(`
      mov dword [0x300000], 0x11223344
      mov word [0x300010], 0x5566
      mov byte [0x300020], 0x77
      mov eax, [0x300004]
      mov dword [0x200000], 0xdeadbeef
      mov ebx, [0x200000]
      hlt`, { flat32: true });
    const log: string[] = [];
    mem.addMmio(0x300000, 0x1000, {
      read8: (a) => { log.push(`r8 ${a.toString(16)}`); return 0xab; },
      write8: (a, v) => { log.push(`w8 ${a.toString(16)}=${v.toString(16)}`); },
      read32: (a) => { log.push(`r32 ${a.toString(16)}`); return 0x0badf00d; },
      write32: (a, v) => { log.push(`w32 ${a.toString(16)}=${(v >>> 0).toString(16)}`); },
    });
    mem.addRom(0x200000, new Uint8Array(4096).fill(0x5a));
    assert.equal(cpu.run(100), 'halted');
    assert.deepEqual(log, ['w32 300000=11223344', 'w8 300010=66', 'w8 300011=55', 'w8 300020=77', 'r32 300004']);
    assert.equal(readRegister(cpu, 'eax'), 0x0badf00d);
    assert.equal(readRegister(cpu, 'ebx'), 0x5a5a5a5a, 'ROM write must be dropped');
  });

  it('applies the A20 gate and reports writes to code pages', () => {
    const { cpu, mem } = machine(`
      mov dword [0x100000], 0x12345678
      mov eax, [0]
      hlt`, { flat32: true, at: 0x2000 });
    mem.u8.fill(0, 0, 4);
    mem.setA20(false);
    const writes: number[] = [];
    mem.onCodeWrite((addr) => writes.push(addr));
    mem.markCodePage(0);
    assert.equal(cpu.run(100), 'halted');
    assert.equal(readRegister(cpu, 'eax'), 0x12345678, 'bit 20 masked: 1 MiB aliases 0');
    assert.deepEqual(writes, [0]);
  });

  it('stops at breakpoints, single-steps, and resumes off a breakpoint', () => {
    const { cpu } = machine('mov ax, 1\nmov bx, 2\nmov cx, 3\nhlt');
    cpu.breakpoints.add(0x1006);
    cpu.hooksChanged();
    assert.equal(cpu.run(1000), 'breakpoint');
    assert.equal(cpu.eip, 0x1006);
    assert.equal(readRegister(cpu, 'bx'), 2);
    assert.equal(readRegister(cpu, 'cx'), 0);
    assert.equal(cpu.step(), 'budget');
    assert.equal(readRegister(cpu, 'cx'), 3);
    assert.equal(cpu.run(1000), 'halted');
  });

  it('stops after an instruction that touches a watched range', () => {
    const { cpu } = machine('mov byte [0x5000], 1\nmov al, [0x6002]\nmov byte [0x6003], 9\nhlt');
    cpu.watchpoints.push({ space: 'linear', start: 0x6000, length: 4, access: 'w' });
    cpu.hooksChanged();
    assert.equal(cpu.run(1000), 'watchpoint');
    assert.equal(cpu.lastWatchHit?.address, 0x6003);
    assert.equal(cpu.lastWatchHit?.write, true);
    assert.equal(cpu.lastWatchHit?.eip, 0x1008);
    assert.equal(cpu.run(1000), 'halted');
  });

  it('reports a triple fault as a stop reason, not an exception', () => {
    const { cpu } = machine('lidt [idt]\nint 0x21\nidt: dw 0\ndd 0', { flat32: true });
    assert.equal(cpu.run(1000), 'triple-fault');
    assert.match(cpu.shutdownReason, /triple fault/);
    assert.equal(cpu.run(10), 'triple-fault', 'stays shut down until reset');
    cpu.reset();
    assert.equal(cpu.eip, 0xfff0);
  });

  it('halts, then wakes for an interrupt from the interrupt source (real-mode IVT)', () => {
    const { cpu, mem } = machine('sti\nhlt\nmov bx, 0x42\nhlt\nhandler: mov ax, 0x99\niret');
    mem.u8[0x20 * 4] = 0x06; mem.u8[0x20 * 4 + 1] = 0x10; // IVT[0x20] = 0000:1006 (handler)
    let pending = false;
    const pic: InterruptSource = { hasInterrupt: () => pending, acknowledge: () => { pending = false; return 0x20; } };
    cpu.intr = pic;
    assert.equal(cpu.run(100), 'halted');
    pending = true;
    cpu.notifyInterrupt();
    assert.equal(cpu.run(100), 'halted');
    assert.equal(readRegister(cpu, 'ax'), 0x99);
    assert.equal(readRegister(cpu, 'bx'), 0x42);
  });

  it('runs out of budget and counts instructions', () => {
    const { cpu } = machine('l: inc ax\njmp l');
    assert.equal(cpu.run(1001), 'budget');
    assert.equal(cpu.instructions, 1001);
    assert.equal(readRegister(cpu, 'ax'), 501);
  });

  it('saveState/restoreState reproduce execution exactly', () => {
    const { cpu } = machine(`
      mov ecx, 1000
      xor eax, eax
    l: add eax, ecx
      rol eax, 3
      fld1
      faddp st1, st0
      loop l
      hlt`, { flat32: true });
    cpu.run(500);
    const snap = cpu.saveState();
    const json = JSON.stringify(snap, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : v));
    assert.ok(json.length > 100);
    cpu.run(100000);
    const after = registerSnapshot(cpu);
    cpu.restoreState(snap);
    assert.notDeepEqual(registerSnapshot(cpu), after);
    cpu.run(100000);
    assert.deepEqual(registerSnapshot(cpu), after);
  });

  it('reads and writes registers by name', () => {
    const { cpu } = machine('hlt');
    assert.ok(writeRegister(cpu, 'eax', 0x12345678));
    assert.equal(readRegister(cpu, 'ah'), 0x56);
    assert.equal(readRegister(cpu, 'ax'), 0x5678);
    assert.ok(writeRegister(cpu, 'ds', 0x1234));
    assert.equal(readRegister(cpu, 'ds.base'), 0x12340);
    assert.equal(readRegister(cpu, 'cs.limit'), 0xffff);
    assert.equal(readRegister(cpu, 'cr0'), 0x60000010);
    assert.equal(readRegister(cpu, 'nonsense'), undefined);
    assert.equal(writeRegister(cpu, 'nonsense', 1), false);
  });

  it('reports a family-6 CPU with FPU/TSC/CX8/CMOV/PSE/PGE and without APIC/PAE in CPUID', () => {
    const { cpu } = machine('xor eax, eax\ncpuid\nmov esi, ebx\nmov edi, ecx\nmov ebp, edx\nmov eax, 1\ncpuid\nhlt', { flat32: true });
    assert.equal(cpu.run(100), 'halted');
    const vendor = Buffer.alloc(12);
    vendor.writeInt32LE(cpu.regs[6], 0); vendor.writeInt32LE(cpu.regs[5], 4); vendor.writeInt32LE(cpu.regs[7], 8);
    assert.equal(vendor.toString('latin1'), 'GenuineIntel');
    assert.equal((readRegister(cpu, 'eax')! >> 8) & 0xf, 6, 'family 6');
    const edx = readRegister(cpu, 'edx')!;
    for (const [bit, name] of [[0, 'FPU'], [3, 'PSE'], [4, 'TSC'], [5, 'MSR'], [8, 'CX8'], [13, 'PGE'], [15, 'CMOV']] as const) {
      assert.ok(edx & (1 << bit), `${name} must be reported`);
    }
    assert.equal(edx & (1 << 9), 0, 'no APIC: Linux panics in setup_IO_APIC without an I/O APIC');
    assert.equal(edx & (1 << 6), 0, 'no PAE');
    // P6 without SSE: no FXSAVE/FXRSTOR, so FXSR (and MMX/SSE) must not be claimed
    for (const [bit, name] of [[23, 'MMX'], [24, 'FXSR'], [25, 'SSE'], [26, 'SSE2']] as const) {
      assert.equal(edx & (1 << bit), 0, `${name} must not be reported`);
    }
  });

  // The next two are SDM behaviour that QEMU's TCG does not model (so the differential suite
  // cannot check them; see test/fixtures/cpu/README.md).
  it('raises #UD for LOCK on an instruction that is not lockable (LOCK MOV), not for LOCK ADD [mem]', () => {
    const { cpu } = machine(`
      lgdt [gdtr]
      lidt [idtr]
      mov dword [0x5000], 1
      lock add dword [0x5000], 2
      mov ebx, 0x5000
      xor ecx, ecx
      lock mov [ebx], eax
      mov ecx, 1
      hlt
    ud: mov ecx, 0x66
      hlt
      align 8
    gdt: dq 0, 0x00cf9b000000ffff
    gdtr: dw 15
      dd gdt
    idt: times 6 dq 0
      dw (ud - $$ + 0x1000) & 0xffff, 8, 0x8e00, (ud - $$ + 0x1000) >> 16
    idtr: dw 7*8-1
      dd idt`, { flat32: true });
    assert.equal(cpu.run(100), 'halted');
    assert.equal(cpu.mem.u32[0x5000 >> 2], 3);
    assert.equal(readRegister(cpu, 'ecx'), 0x66, 'LOCK MOV: #UD');
  });

  // QEMU's TCG does not check data-segment limits, so these are unit tests (SDM: #GP(0) for a
  // data segment, #SS(0) for SS, expand-down segments valid above their limit).
  function faultProbe(access: string): { vec: number; err: number } {
    const { cpu } = machine(`
      lgdt [gdtr]
      lidt [idtr]
      ${access}
      mov esi, 0x99
      hlt
    h12: mov esi, 12
      mov edi, [esp]
      hlt
    h13: mov esi, 13
      mov edi, [esp]
      hlt
      align 8
    gdt: dq 0, 0x00cf9b000000ffff
      dq 0x0040920000000fff       ; 0x10: data, limit 0xfff
      dq 0x0040960000000fff       ; 0x18: data, expand-down, limit 0xfff (valid 0x1000-0xffffffff)
    gdtr: dw 31
      dd gdt
    idt: times 12 dq 0
      dw (h12 - $$ + 0x1000) & 0xffff, 8, 0x8e00, (h12 - $$ + 0x1000) >> 16
      dw (h13 - $$ + 0x1000) & 0xffff, 8, 0x8e00, (h13 - $$ + 0x1000) >> 16
    idtr: dw 14*8-1
      dd idt`, { flat32: true });
    assert.equal(cpu.run(1000), 'halted');
    return { vec: readRegister(cpu, 'esi')!, err: readRegister(cpu, 'edi')! };
  }

  it('enforces data and stack segment limits, including expand-down segments', () => {
    assert.deepEqual(faultProbe('mov ax, 0x10\nmov ds, ax\nmov eax, [0xffc]'), { vec: 0x99, err: 0 });
    assert.deepEqual(faultProbe('mov ax, 0x10\nmov ds, ax\nmov eax, [0xffe]'), { vec: 13, err: 0 }, 'dword straddling the limit: #GP(0)');
    assert.deepEqual(faultProbe('mov ax, 0x10\nmov es, ax\nmov byte [es:0x1000], 1'), { vec: 13, err: 0 });
    assert.equal(faultProbe('mov ax, 0x10\nmov ss, ax\nmov esp, 0xff0\nmov eax, [ss:0x1000]').vec, 12, 'SS-relative: #SS(0)');
    assert.deepEqual(faultProbe('mov ax, 0x18\nmov ds, ax\nmov eax, [0x2000]'), { vec: 0x99, err: 0 }, 'expand-down: above the limit is valid');
    assert.deepEqual(faultProbe('mov ax, 0x18\nmov ds, ax\nmov eax, [0x800]'), { vec: 13, err: 0 }, 'expand-down: at or below the limit faults');
  });

  it('raises #GP(0) for RDMSR/WRMSR of an MSR this CPU does not implement (QEMU TCG reads 0)', () => {
    assert.deepEqual(faultProbe('mov ecx, 0x12345\nrdmsr'), { vec: 13, err: 0 });
    assert.deepEqual(faultProbe('mov ecx, 0x1b\nxor eax, eax\nxor edx, edx\nwrmsr'), { vec: 13, err: 0 }, 'no APIC: no IA32_APIC_BASE');
    assert.deepEqual(faultProbe('mov ecx, 0x174\nrdmsr'), { vec: 0x99, err: 0 });
  });

  it('WRMSR to IA32_TSC sets the counter RDTSC and RDMSR read, and it keeps counting', () => {
    const { cpu } = machine(`
      mov ecx, 0x10
      mov edx, 7
      mov eax, 0x100
      wrmsr
      rdtsc
      mov esi, eax
      mov edi, edx
      rdtsc
      mov ebp, eax
      mov ecx, 0x10
      rdmsr
      hlt`, { flat32: true });
    assert.equal(cpu.run(100), 'halted');
    assert.equal(readRegister(cpu, 'edi'), 7);
    assert.equal(readRegister(cpu, 'edx'), 7);
    const [first, second, msr] = [readRegister(cpu, 'esi')!, readRegister(cpu, 'ebp')!, readRegister(cpu, 'eax')!];
    assert.ok(first >= 0x100 && first < 0x200, first.toString(16));
    assert.ok(second > first && msr > second, 'strictly increasing within one run() slice');
  });

  it('FPREM1 reports the low quotient bits of the rounded quotient in C0/C3/C1 (FPREM truncates)', () => {
    const { cpu } = machine(`
      fninit
      fld qword [y]
      fld qword [x]
      fprem1            ; 11 rem 7: quotient 2 (nearest), remainder -3
      fnstsw ax
      mov bx, ax
      fstp qword [r1]
      fld qword [y]
      fld qword [x]
      fprem             ; quotient 1 (truncated), remainder 4
      fnstsw ax
      fstp qword [r2]
      hlt
      align 8
    x: dq 11.0
    y: dq 7.0
    r1: dq 0
    r2: dq 0`, { flat32: true });
    assert.equal(cpu.run(1000), 'halted');
    const C = (sw: number): number => ((sw >> 8) & 1) << 2 | ((sw >> 14) & 1) << 1 | ((sw >> 9) & 1); // Q2 Q1 Q0
    assert.equal(C(readRegister(cpu, 'bx')!), 2, 'FPREM1: quotient 2');
    assert.equal(C(readRegister(cpu, 'ax')!), 1, 'FPREM: quotient 1');
    assert.equal(readRegister(cpu, 'bx')! & 0x400, 0, 'complete');
  });

  it('x87 stack overflow and underflow set IE|SF with C1 as the SDM specifies', () => {
    const { cpu } = machine(`
      fninit
      fld1
      fld1
      fld1
      fld1
      fld1
      fld1
      fld1
      fld1
      fld1            ; 9th push: overflow
      fnstsw ax
      mov bx, ax
      fninit
      fadd st0, st1   ; underflow
      fnstsw ax
      hlt`, { flat32: true });
    assert.equal(cpu.run(1000), 'halted');
    const over = readRegister(cpu, 'bx')!;
    assert.equal(over & 0x41, 0x41, 'IE and SF');
    assert.equal(over & 0x200, 0x200, 'C1 = overflow');
    const under = readRegister(cpu, 'ax')!;
    assert.equal(under & 0x41, 0x41);
    assert.equal(under & 0x200, 0, 'C1 = underflow');
  });
});
