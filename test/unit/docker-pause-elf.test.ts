// The sandbox program for every architecture: ELF headers the kernel accepts, and machine code
// that is what the comments say. Only amd64 runs here (test/e2e/docker-engine.test.ts); the arm
// programs are checked instruction by instruction: each expected encoding is written out with
// its assembly, branch targets are decoded from the encodings and must land on their labels, and
// the syscall numbers loaded before each trap are the ones of that architecture's table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pauseArch, pauseCode, pauseElf, type PauseArch } from '../../src/docker/pause-elf.ts';
import { sandboxContext, sandboxTag } from '../../src/docker/sandbox.ts';
import { unpackTar } from '../../src/docker/tar.ts';

interface Insn { label?: string; enc: number[] | number; asm: string; to?: string }

const AMD64: Insn[] = [
  { enc: [0x48, 0x8b, 0x04, 0x24], asm: 'mov rax, [rsp]' },
  { enc: [0x48, 0x83, 0xf8, 0x03], asm: 'cmp rax, 3' },
  { enc: [0x72, 0x45], asm: 'jb pause', to: 'pause' },
  { enc: [0x48, 0x8b, 0x5c, 0x24, 0x10], asm: 'mov rbx, [rsp+16]' },
  { enc: [0x48, 0x8d, 0x6c, 0x24, 0x18], asm: 'lea rbp, [rsp+24]' },
  { enc: [0x80, 0x3b, 0x72], asm: "cmp byte [rbx], 'r'" },
  { enc: [0x75, 0x11], asm: 'jne unlink', to: 'unlink' },
  { enc: [0x48, 0x8b, 0x7d, 0x00], asm: 'mov rdi, [rbp]' },
  { enc: [0x48, 0x8b, 0x75, 0x08], asm: 'mov rsi, [rbp+8]' },
  { enc: [0xb8, 0x52, 0, 0, 0], asm: 'mov eax, 82' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0xeb, 0x1a], asm: 'jmp exit', to: 'exit' },
  { label: 'unlink', enc: [0x48, 0x8b, 0x7d, 0x00], asm: 'mov rdi, [rbp]' },
  { enc: [0x31, 0xc0], asm: 'xor eax, eax' },
  { enc: [0x48, 0x85, 0xff], asm: 'test rdi, rdi' },
  { enc: [0x74, 0x0f], asm: 'je exit', to: 'exit' },
  { enc: [0xb8, 0x57, 0, 0, 0], asm: 'mov eax, 87' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0x48, 0x83, 0xc5, 0x08], asm: 'add rbp, 8' },
  { enc: [0x85, 0xc0], asm: 'test eax, eax' },
  { enc: [0x74, 0xe6], asm: 'je unlink', to: 'unlink' },
  { label: 'exit', enc: [0xf7, 0xd8], asm: 'neg eax' },
  { enc: [0x89, 0xc7], asm: 'mov edi, eax' },
  { enc: [0xb8, 0x3c, 0, 0, 0], asm: 'mov eax, 60' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { label: 'pause', enc: [0xb8, 0x22, 0, 0, 0], asm: 'mov eax, 34' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0xeb, 0xf7], asm: 'jmp pause', to: 'pause' },
];

const ARM64: Insn[] = [
  { enc: 0xf94003e0, asm: 'ldr x0, [sp]' },
  { enc: 0xf1000c1f, asm: 'cmp x0, #3' },
  { enc: 0x54000303, asm: 'b.lo pause', to: 'pause' },
  { enc: 0xf9400be1, asm: 'ldr x1, [sp, #16]' },
  { enc: 0x910063f3, asm: 'add x19, sp, #24' },
  { enc: 0x39400022, asm: 'ldrb w2, [x1]' },
  { enc: 0x7101c85f, asm: "cmp w2, #'r'" },
  { enc: 0x54000101, asm: 'b.ne unlink', to: 'unlink' },
  { enc: 0x92800c60, asm: 'mov x0, #-100' },
  { enc: 0xf9400261, asm: 'ldr x1, [x19]' },
  { enc: 0x92800c62, asm: 'mov x2, #-100' },
  { enc: 0xf9400663, asm: 'ldr x3, [x19, #8]' },
  { enc: 0xd28004c8, asm: 'mov x8, #38' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0x14000009, asm: 'b exit', to: 'exit' },
  { label: 'unlink', enc: 0xf8408661, asm: 'ldr x1, [x19], #8' },
  { enc: 0xd2800000, asm: 'mov x0, #0' },
  { enc: 0xb40000c1, asm: 'cbz x1, exit', to: 'exit' },
  { enc: 0x92800c60, asm: 'mov x0, #-100' },
  { enc: 0xd2800002, asm: 'mov x2, #0' },
  { enc: 0xd2800468, asm: 'mov x8, #35' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0xb4ffff20, asm: 'cbz x0, unlink', to: 'unlink' },
  { label: 'exit', enc: 0x4b0003e0, asm: 'neg w0, w0' },
  { enc: 0xd2800ba8, asm: 'mov x8, #93' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { label: 'pause', enc: 0xd2800000, asm: 'mov x0, #0' },
  { enc: 0xd2800001, asm: 'mov x1, #0' },
  { enc: 0xd2800002, asm: 'mov x2, #0' },
  { enc: 0xd2800003, asm: 'mov x3, #0' },
  { enc: 0xd2800004, asm: 'mov x4, #0' },
  { enc: 0xd2800928, asm: 'mov x8, #73' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0x17fffff9, asm: 'b pause', to: 'pause' },
];

const ARM: Insn[] = [
  { enc: 0xe59d0000, asm: 'ldr r0, [sp]' },
  { enc: 0xe3500003, asm: 'cmp r0, #3' },
  { enc: 0x3a000013, asm: 'blo pause', to: 'pause' },
  { enc: 0xe59d1008, asm: 'ldr r1, [sp, #8]' },
  { enc: 0xe28d400c, asm: 'add r4, sp, #12' },
  { enc: 0xe5d12000, asm: 'ldrb r2, [r1]' },
  { enc: 0xe3520072, asm: "cmp r2, #'r'" },
  { enc: 0x1a000004, asm: 'bne unlink', to: 'unlink' },
  { enc: 0xe5940000, asm: 'ldr r0, [r4]' },
  { enc: 0xe5941004, asm: 'ldr r1, [r4, #4]' },
  { enc: 0xe3a07026, asm: 'mov r7, #38' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xea000006, asm: 'b exit', to: 'exit' },
  { label: 'unlink', enc: 0xe4940004, asm: 'ldr r0, [r4], #4' },
  { enc: 0xe3500000, asm: 'cmp r0, #0' },
  { enc: 0x0a000003, asm: 'beq exit', to: 'exit' },
  { enc: 0xe3a0700a, asm: 'mov r7, #10' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xe3500000, asm: 'cmp r0, #0' },
  { enc: 0x0afffff8, asm: 'beq unlink', to: 'unlink' },
  { label: 'exit', enc: 0xe2600000, asm: 'rsb r0, r0, #0' },
  { enc: 0xe3a07001, asm: 'mov r7, #1' },
  { enc: 0xef000000, asm: 'svc #0' },
  { label: 'pause', enc: 0xe3a0701d, asm: 'mov r7, #29' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xeafffffc, asm: 'b pause', to: 'pause' },
];

function bytesOf(i: Insn): number[] {
  if (Array.isArray(i.enc)) return i.enc;
  const b = Buffer.alloc(4);
  b.writeUInt32LE(i.enc);
  return [...b];
}

function layout(prog: Insn[]): { code: Buffer; at: number[]; labels: Map<string, number> } {
  const at: number[] = [];
  const labels = new Map<string, number>();
  let off = 0;
  for (const i of prog) {
    at.push(off);
    if (i.label) labels.set(i.label, off);
    off += bytesOf(i).length;
  }
  return { code: Buffer.from(prog.flatMap(bytesOf)), at, labels };
}

const sext = (v: number, bits: number) => (v << (32 - bits)) >> (32 - bits);

/** Where a branch goes, decoded from its encoding alone. */
function branchTarget(arch: PauseArch, i: Insn, off: number): number {
  if (arch === 'amd64') {
    const [op, rel] = i.enc as number[];
    assert.ok([0x72, 0x74, 0x75, 0xeb].includes(op), `${i.asm}: not a short jump`);
    return off + 2 + sext(rel, 8);
  }
  const w = i.enc as number;
  if (arch === 'arm') {
    assert.equal((w >>> 25) & 0b111, 0b101, `${i.asm}: not a B`);
    return off + 8 + sext(w & 0xffffff, 24) * 4;
  }
  if ((w >>> 26) === 0b000101) return off + sext(w & 0x3ffffff, 26) * 4; // B
  if ((w >>> 24) === 0x54 || (w >>> 24) === 0xb4) return off + sext((w >>> 5) & 0x7ffff, 19) * 4; // B.cond, CBZ
  throw new Error(`${i.asm}: unknown branch`);
}

/** The syscall number set up before each trap, in program order. */
function syscalls(arch: PauseArch, prog: Insn[]): number[] {
  const out: number[] = [];
  let nr = -1;
  for (const i of prog) {
    if (arch === 'amd64') {
      const b = i.enc as number[];
      if (b[0] === 0xb8) nr = Buffer.from(b.slice(1)).readUInt32LE(); // mov eax, imm32
      if (b[0] === 0x0f && b[1] === 0x05) out.push(nr);
    } else if (arch === 'arm64') {
      const w = i.enc as number;
      if ((w & 0xffe0001f) >>> 0 === 0xd2800008) nr = (w >>> 5) & 0xffff; // movz x8, #imm16
      if (w >>> 0 === 0xd4000001) out.push(nr);
    } else {
      const w = i.enc as number;
      if ((w & 0xfffff000) >>> 0 === 0xe3a07000) nr = w & 0xff; // mov r7, #imm8
      if (w >>> 0 === 0xef000000) out.push(nr);
    }
  }
  return out;
}

const cases: Array<{ arch: PauseArch; prog: Insn[]; machine: number; elf64: boolean; flags: number; base: number; sys: number[] }> = [
  // rename, unlink, exit, pause
  { arch: 'amd64', prog: AMD64, machine: 62, elf64: true, flags: 0, base: 0x400000, sys: [82, 87, 60, 34] },
  // renameat, unlinkat, exit, ppoll
  { arch: 'arm64', prog: ARM64, machine: 183, elf64: true, flags: 0, base: 0x400000, sys: [38, 35, 93, 73] },
  // rename, unlink, exit, pause (EABI)
  { arch: 'arm', prog: ARM, machine: 40, elf64: false, flags: 0x05000200, base: 0x10000, sys: [38, 10, 1, 29] },
];

for (const c of cases) {
  test(`${c.arch}: the code is the program written out above`, () => {
    const { code, at, labels } = layout(c.prog);
    assert.equal(pauseCode(c.arch).toString('hex'), code.toString('hex'));
    c.prog.forEach((i, k) => {
      if (i.to) assert.equal(branchTarget(c.arch, i, at[k]), labels.get(i.to), `${c.arch} ${i.asm} at ${at[k]}`);
    });
    assert.deepEqual(syscalls(c.arch, c.prog), c.sys);
  });

  test(`${c.arch}: ELF header and program headers`, () => {
    const elf = pauseElf(c.arch);
    assert.equal(elf.subarray(0, 4).toString('latin1'), '\x7fELF');
    assert.equal(elf[4], c.elf64 ? 2 : 1, 'EI_CLASS');
    assert.equal(elf[5], 1, 'little-endian');
    assert.equal(elf[6], 1, 'EI_VERSION');
    assert.equal(elf[7], 0, 'System V ABI');
    assert.equal(elf.readUInt16LE(16), 2, 'ET_EXEC');
    assert.equal(elf.readUInt16LE(18), c.machine);
    assert.equal(elf.readUInt32LE(20), 1);
    const r = c.elf64
      ? { entry: Number(elf.readBigUInt64LE(24)), phoff: Number(elf.readBigUInt64LE(32)), shoff: Number(elf.readBigUInt64LE(40)), flags: elf.readUInt32LE(48), ehsize: elf.readUInt16LE(52), phentsize: elf.readUInt16LE(54), phnum: elf.readUInt16LE(56), shnum: elf.readUInt16LE(60) }
      : { entry: elf.readUInt32LE(24), phoff: elf.readUInt32LE(28), shoff: elf.readUInt32LE(32), flags: elf.readUInt32LE(36), ehsize: elf.readUInt16LE(40), phentsize: elf.readUInt16LE(42), phnum: elf.readUInt16LE(44), shnum: elf.readUInt16LE(48) };
    assert.equal(r.ehsize, c.elf64 ? 64 : 52);
    assert.equal(r.phentsize, c.elf64 ? 56 : 32);
    assert.equal(r.phoff, r.ehsize);
    assert.equal(r.phnum, 2);
    assert.equal(r.shoff, 0);
    assert.equal(r.shnum, 0);
    assert.equal(r.flags, c.flags);
    const ph = (k: number) => {
      const o = r.phoff + k * r.phentsize;
      return c.elf64
        ? { type: elf.readUInt32LE(o), flags: elf.readUInt32LE(o + 4), offset: Number(elf.readBigUInt64LE(o + 8)), vaddr: Number(elf.readBigUInt64LE(o + 16)), filesz: Number(elf.readBigUInt64LE(o + 32)), memsz: Number(elf.readBigUInt64LE(o + 40)), align: Number(elf.readBigUInt64LE(o + 48)) }
        : { type: elf.readUInt32LE(o), offset: elf.readUInt32LE(o + 4), vaddr: elf.readUInt32LE(o + 8), filesz: elf.readUInt32LE(o + 16), memsz: elf.readUInt32LE(o + 20), flags: elf.readUInt32LE(o + 24), align: elf.readUInt32LE(o + 28) };
    };
    const load = ph(0);
    assert.equal(load.type, 1, 'PT_LOAD');
    assert.equal(load.flags, 5, 'R+X');
    assert.equal(load.offset, 0);
    assert.equal(load.vaddr, c.base);
    assert.equal(load.filesz, elf.length);
    assert.equal(load.memsz, elf.length);
    assert.equal(load.vaddr % load.align, 0, 'segment aligned for 64 KiB pages');
    assert.equal(load.align, 0x10000);
    const stack = ph(1);
    assert.equal(stack.type, 0x6474e551, 'PT_GNU_STACK');
    assert.equal(stack.flags, 6, 'stack RW, not executable');
    // The entry point is the first instruction, right after the headers, and it reads argc.
    const codeOff = r.ehsize + 2 * r.phentsize;
    assert.equal(r.entry, c.base + codeOff);
    assert.equal(elf.subarray(codeOff).toString('hex'), pauseCode(c.arch).toString('hex'));
    assert.equal(r.entry % 4, 0);
    assert.ok(elf.length < 400, `${elf.length} bytes`);
  });
}

test('engine architecture names map to a program', () => {
  assert.equal(pauseArch('amd64'), 'amd64');
  assert.equal(pauseArch('x86_64'), 'amd64');
  assert.equal(pauseArch('arm64'), 'arm64');
  assert.equal(pauseArch('aarch64'), 'arm64');
  assert.equal(pauseArch('arm'), 'arm');
  assert.equal(pauseArch('armv7l'), 'arm');
  assert.equal(pauseArch('armv6l'), 'arm');
  assert.equal(pauseArch('s390x'), undefined);
  assert.equal(pauseArch('riscv64'), undefined);
});

test('the build context holds a FROM scratch Dockerfile with SIGKILL and the executable', () => {
  const bin = pauseElf('arm64');
  const entries = unpackTar(sandboxContext(bin));
  assert.deepEqual(entries.map((e) => e.name), ['Dockerfile', 'pause']);
  const df = entries[0].content!.toString();
  assert.match(df, /^FROM scratch$/m);
  assert.match(df, /^STOPSIGNAL SIGKILL$/m);
  assert.match(df, /^ENTRYPOINT \["\/pause"\]$/m);
  assert.equal(entries[1].mode, 0o755);
  assert.ok(entries[1].content!.equals(bin));
  // Content-addressed tag: stable for one binary, different for another.
  assert.equal(sandboxTag(bin), sandboxTag(pauseElf('arm64')));
  assert.notEqual(sandboxTag(bin), sandboxTag(pauseElf('amd64')));
  assert.match(sandboxTag(bin), /^k2d\/pause:[0-9a-f]{12}$/);
});
