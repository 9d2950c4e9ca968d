// The sandbox's only program, written out as machine code because nothing can be downloaded or
// compiled on the device: a static ELF of a few hundred bytes, no libc, one loadable segment.
//
//   /pause                  waits for a signal forever (PID 1 of every pod sandbox)
//   /pause r SRC DST        rename(SRC, DST): the atomic `..data` swap of volume files
//   /pause u PATH...        unlink each PATH, stopping at the first failure
// The exit status is 0 or the errno of the failed call. The second and third forms are what
// files.ts execs in a running sandbox: the engine API can write files but never rename or
// delete them, and the sandbox image has no shell or coreutils to do it.
//
// Per architecture (syscall numbers from each arch's table):
//   amd64: pause 34, rename 82, unlink 87, exit 60
//   arm64: no pause (ppoll(NULL, 0, NULL, NULL, 0) 73 blocks the same way), renameat 38,
//          unlinkat 35 (with AT_FDCWD = -100), exit 93
//   arm (EABI, A32 instructions, so ARMv6 boards run it too): pause 29, rename 38, unlink 10, exit 1
// At entry the stack holds argc, then argv[0..argc-1], then NULL.

export type PauseArch = 'amd64' | 'arm64' | 'arm';

interface ArchInfo {
  machine: number;
  elf64: boolean;
  flags: number;
  base: number;
  code: Buffer;
}

const words = (...w: number[]) => {
  const b = Buffer.alloc(w.length * 4);
  w.forEach((x, i) => b.writeUInt32LE(x >>> 0, i * 4));
  return b;
};

// Relative branches count from the end of the instruction (x86) or from the instruction itself
// in words (arm64: offset/4; arm: (target - (pc + 8)) / 4).
const AMD64 = Buffer.from([
  /* 00 */ 0x48, 0x8b, 0x04, 0x24, //       mov  rax, [rsp]          argc
  /* 04 */ 0x48, 0x83, 0xf8, 0x03, //       cmp  rax, 3
  /* 08 */ 0x72, 0x45, //                   jb   pause (0x4f)
  /* 0a */ 0x48, 0x8b, 0x5c, 0x24, 0x10, // mov  rbx, [rsp+16]       argv[1]
  /* 0f */ 0x48, 0x8d, 0x6c, 0x24, 0x18, // lea  rbp, [rsp+24]       &argv[2]
  /* 14 */ 0x80, 0x3b, 0x72, //             cmp  byte [rbx], 'r'
  /* 17 */ 0x75, 0x11, //                   jne  unlink (0x2a)
  /* 19 */ 0x48, 0x8b, 0x7d, 0x00, //       mov  rdi, [rbp]
  /* 1d */ 0x48, 0x8b, 0x75, 0x08, //       mov  rsi, [rbp+8]
  /* 21 */ 0xb8, 0x52, 0x00, 0x00, 0x00, // mov  eax, 82             rename
  /* 26 */ 0x0f, 0x05, //                   syscall
  /* 28 */ 0xeb, 0x1a, //                   jmp  exit (0x44)
  /* 2a */ 0x48, 0x8b, 0x7d, 0x00, //       unlink: mov rdi, [rbp]
  /* 2e */ 0x31, 0xc0, //                   xor  eax, eax
  /* 30 */ 0x48, 0x85, 0xff, //             test rdi, rdi            argv's NULL: done
  /* 33 */ 0x74, 0x0f, //                   je   exit (0x44)
  /* 35 */ 0xb8, 0x57, 0x00, 0x00, 0x00, // mov  eax, 87             unlink
  /* 3a */ 0x0f, 0x05, //                   syscall
  /* 3c */ 0x48, 0x83, 0xc5, 0x08, //       add  rbp, 8
  /* 40 */ 0x85, 0xc0, //                   test eax, eax
  /* 42 */ 0x74, 0xe6, //                   je   unlink (0x2a)
  /* 44 */ 0xf7, 0xd8, //                   exit: neg eax            -errno -> errno
  /* 46 */ 0x89, 0xc7, //                   mov  edi, eax
  /* 48 */ 0xb8, 0x3c, 0x00, 0x00, 0x00, // mov  eax, 60             exit
  /* 4d */ 0x0f, 0x05, //                   syscall
  /* 4f */ 0xb8, 0x22, 0x00, 0x00, 0x00, // pause: mov eax, 34       pause
  /* 54 */ 0x0f, 0x05, //                   syscall
  /* 56 */ 0xeb, 0xf7, //                   jmp  pause (0x4f)
]);

const ARM64 = words(
  /* 00 */ 0xf94003e0, // ldr  x0, [sp]              argc
  /* 04 */ 0xf1000c1f, // cmp  x0, #3
  /* 08 */ 0x54000303, // b.lo pause (+0x60)
  /* 0c */ 0xf9400be1, // ldr  x1, [sp, #16]         argv[1]
  /* 10 */ 0x910063f3, // add  x19, sp, #24          &argv[2]
  /* 14 */ 0x39400022, // ldrb w2, [x1]
  /* 18 */ 0x7101c85f, // cmp  w2, #'r'
  /* 1c */ 0x54000101, // b.ne unlink (+0x20)
  /* 20 */ 0x92800c60, // mov  x0, #-100             AT_FDCWD
  /* 24 */ 0xf9400261, // ldr  x1, [x19]
  /* 28 */ 0x92800c62, // mov  x2, #-100             AT_FDCWD
  /* 2c */ 0xf9400663, // ldr  x3, [x19, #8]
  /* 30 */ 0xd28004c8, // mov  x8, #38               renameat
  /* 34 */ 0xd4000001, // svc  #0
  /* 38 */ 0x14000009, // b    exit (+0x24)
  /* 3c */ 0xf8408661, // unlink: ldr x1, [x19], #8
  /* 40 */ 0xd2800000, // mov  x0, #0
  /* 44 */ 0xb40000c1, // cbz  x1, exit (+0x18)      argv's NULL: done
  /* 48 */ 0x92800c60, // mov  x0, #-100             AT_FDCWD
  /* 4c */ 0xd2800002, // mov  x2, #0                flags
  /* 50 */ 0xd2800468, // mov  x8, #35               unlinkat
  /* 54 */ 0xd4000001, // svc  #0
  /* 58 */ 0xb4ffff20, // cbz  x0, unlink (-0x1c)
  /* 5c */ 0x4b0003e0, // exit: neg w0, w0
  /* 60 */ 0xd2800ba8, // mov  x8, #93               exit
  /* 64 */ 0xd4000001, // svc  #0
  /* 68 */ 0xd2800000, // pause: mov x0, #0          fds = NULL
  /* 6c */ 0xd2800001, // mov  x1, #0                nfds = 0
  /* 70 */ 0xd2800002, // mov  x2, #0                timeout = NULL: forever
  /* 74 */ 0xd2800003, // mov  x3, #0                sigmask = NULL
  /* 78 */ 0xd2800004, // mov  x4, #0                sigsetsize
  /* 7c */ 0xd2800928, // mov  x8, #73               ppoll
  /* 80 */ 0xd4000001, // svc  #0
  /* 84 */ 0x17fffff9, // b    pause (-0x1c)
);

const ARM = words(
  /* 00 */ 0xe59d0000, // ldr   r0, [sp]             argc
  /* 04 */ 0xe3500003, // cmp   r0, #3
  /* 08 */ 0x3a000013, // blo   pause (0x5c)
  /* 0c */ 0xe59d1008, // ldr   r1, [sp, #8]         argv[1]
  /* 10 */ 0xe28d400c, // add   r4, sp, #12          &argv[2]
  /* 14 */ 0xe5d12000, // ldrb  r2, [r1]
  /* 18 */ 0xe3520072, // cmp   r2, #'r'
  /* 1c */ 0x1a000004, // bne   unlink (0x34)
  /* 20 */ 0xe5940000, // ldr   r0, [r4]
  /* 24 */ 0xe5941004, // ldr   r1, [r4, #4]
  /* 28 */ 0xe3a07026, // mov   r7, #38              rename
  /* 2c */ 0xef000000, // svc   #0
  /* 30 */ 0xea000006, // b     exit (0x50)
  /* 34 */ 0xe4940004, // unlink: ldr r0, [r4], #4
  /* 38 */ 0xe3500000, // cmp   r0, #0               argv's NULL: done, status 0
  /* 3c */ 0x0a000003, // beq   exit (0x50)
  /* 40 */ 0xe3a0700a, // mov   r7, #10              unlink
  /* 44 */ 0xef000000, // svc   #0
  /* 48 */ 0xe3500000, // cmp   r0, #0
  /* 4c */ 0x0afffff8, // beq   unlink (0x34)
  /* 50 */ 0xe2600000, // exit: rsb r0, r0, #0       -errno -> errno
  /* 54 */ 0xe3a07001, // mov   r7, #1               exit
  /* 58 */ 0xef000000, // svc   #0
  /* 5c */ 0xe3a0701d, // pause: mov r7, #29         pause
  /* 60 */ 0xef000000, // svc   #0
  /* 64 */ 0xeafffffc, // b     pause (0x5c)
);

const ARCHES: Record<PauseArch, ArchInfo> = {
  amd64: { machine: 62, elf64: true, flags: 0, base: 0x400000, code: AMD64 },
  arm64: { machine: 183, elf64: true, flags: 0, base: 0x400000, code: ARM64 },
  // EABI version 5, soft-float (no floating point is used at all)
  arm: { machine: 40, elf64: false, flags: 0x05000200, base: 0x10000, code: ARM },
};

/** Engine architecture (`docker version` Arch, or `docker info` Architecture) -> ours. */
export function pauseArch(arch: string): PauseArch | undefined {
  const a = arch.toLowerCase();
  if (a === 'amd64' || a === 'x86_64') return 'amd64';
  if (a === 'arm64' || a === 'aarch64' || a === 'arm64v8') return 'arm64';
  if (a === 'arm' || /^armv[67]/.test(a) || a === 'armhf' || a === 'armel') return 'arm';
  return undefined;
}

const PT_LOAD = 1;
const PT_GNU_STACK = 0x6474e551;
const PF_X = 1, PF_W = 2, PF_R = 4;
// 64 KiB: page-aligned on kernels with 4, 16 or 64 KiB pages.
const ALIGN = 0x10000;

/** The whole executable: ELF header, a PT_LOAD of the file itself, PT_GNU_STACK (no exec stack), code. */
export function pauseElf(arch: PauseArch): Buffer {
  const a = ARCHES[arch];
  const ehsize = a.elf64 ? 64 : 52;
  const phentsize = a.elf64 ? 56 : 32;
  const phnum = 2;
  const codeOff = ehsize + phentsize * phnum;
  const size = codeOff + a.code.length;
  const entry = a.base + codeOff;
  const b = Buffer.alloc(size);
  b.write('\x7fELF', 0, 'latin1');
  b[4] = a.elf64 ? 2 : 1; // EI_CLASS
  b[5] = 1; // EI_DATA: little-endian
  b[6] = 1; // EI_VERSION
  // EI_OSABI 0 (System V), EI_ABIVERSION 0, padding 0
  b.writeUInt16LE(2, 16); // e_type: ET_EXEC
  b.writeUInt16LE(a.machine, 18);
  b.writeUInt32LE(1, 20); // e_version
  if (a.elf64) {
    b.writeBigUInt64LE(BigInt(entry), 24);
    b.writeBigUInt64LE(BigInt(ehsize), 32); // e_phoff
    b.writeBigUInt64LE(0n, 40); // e_shoff: no sections
    b.writeUInt32LE(a.flags, 48);
    b.writeUInt16LE(ehsize, 52);
    b.writeUInt16LE(phentsize, 54);
    b.writeUInt16LE(phnum, 56);
    b.writeUInt16LE(64, 58); // e_shentsize
    // e_shnum 0, e_shstrndx 0
    let p = ehsize;
    b.writeUInt32LE(PT_LOAD, p); b.writeUInt32LE(PF_R | PF_X, p + 4);
    b.writeBigUInt64LE(0n, p + 8); // p_offset
    b.writeBigUInt64LE(BigInt(a.base), p + 16); // p_vaddr
    b.writeBigUInt64LE(BigInt(a.base), p + 24); // p_paddr
    b.writeBigUInt64LE(BigInt(size), p + 32); // p_filesz
    b.writeBigUInt64LE(BigInt(size), p + 40); // p_memsz
    b.writeBigUInt64LE(BigInt(ALIGN), p + 48);
    p += phentsize;
    b.writeUInt32LE(PT_GNU_STACK, p); b.writeUInt32LE(PF_R | PF_W, p + 4);
    b.writeBigUInt64LE(16n, p + 48);
  } else {
    b.writeUInt32LE(entry, 24);
    b.writeUInt32LE(ehsize, 28); // e_phoff
    b.writeUInt32LE(0, 32); // e_shoff
    b.writeUInt32LE(a.flags, 36);
    b.writeUInt16LE(ehsize, 40);
    b.writeUInt16LE(phentsize, 42);
    b.writeUInt16LE(phnum, 44);
    b.writeUInt16LE(40, 46); // e_shentsize
    let p = ehsize;
    b.writeUInt32LE(PT_LOAD, p);
    b.writeUInt32LE(0, p + 4); // p_offset
    b.writeUInt32LE(a.base, p + 8); // p_vaddr
    b.writeUInt32LE(a.base, p + 12); // p_paddr
    b.writeUInt32LE(size, p + 16); // p_filesz
    b.writeUInt32LE(size, p + 20); // p_memsz
    b.writeUInt32LE(PF_R | PF_X, p + 24);
    b.writeUInt32LE(ALIGN, p + 28);
    p += phentsize;
    b.writeUInt32LE(PT_GNU_STACK, p);
    b.writeUInt32LE(PF_R | PF_W, p + 24);
    b.writeUInt32LE(16, p + 28);
  }
  a.code.copy(b, codeOff);
  return b;
}

/** The machine code alone, for tests. */
export function pauseCode(arch: PauseArch): Buffer {
  return Buffer.from(ARCHES[arch].code);
}
