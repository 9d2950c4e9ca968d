// The sandbox's only program, written out as machine code because nothing can be downloaded or
// compiled on the device: a static ELF of well under 1 KiB, no libc, one loadable segment.
//
//   /pause                  waits for a signal forever (PID 1 of every pod sandbox)
//   /pause r SRC DST        rename(SRC, DST): the atomic `..data` swap of volume files
//   /pause u PATH...        unlink each PATH, stopping at the first failure
//   /pause c PORT           relay stdin/stdout to 127.0.0.1:PORT (TCP)
// r and u exit with 0 or the errno of the failed call. They are what files.ts execs in a running
// sandbox: the engine API can write files but never rename or delete them, and the sandbox image
// has no shell or coreutils to do it.
// c is what port-forward and network probes exec: the sandbox holds the pod's network namespace
// and is up while any app container is, whatever the app images contain. It exits 1 at once when
// the connect fails; once connected it writes one byte to stderr (the caller's "connected"
// signal, since stdout belongs to the relayed bytes), then copies both ways with poll. Stdin's
// EOF becomes shutdown(SHUT_WR) and copying goes on until the socket's EOF (exit 0); a failed
// read or write exits 1. Its frame on the stack: sockaddr_in at sp, two pollfds at sp+16
// (stdin, socket; stdin's fd turns -1 after its EOF, which poll skips), a 16 KiB buffer at sp+32.
//
// Per architecture (syscall numbers from each arch's table):
//   amd64: pause 34, rename 82, unlink 87, exit 60, socket 41, connect 42, poll 7, read 0,
//          write 1, shutdown 48
//   arm64: no pause (ppoll(NULL, 0, NULL, NULL, 0) 73 blocks the same way, and ppoll with a NULL
//          timeout stands in for poll), renameat 38, unlinkat 35 (with AT_FDCWD = -100), exit 93,
//          socket 198, connect 203, read 63, write 64, shutdown 210
//   arm (EABI, A32 instructions up to ARMv6, so ARMv6 boards run it too): pause 29, rename 38,
//          unlink 10, exit 1, socket 281, connect 283, poll 168, read 3, write 4, shutdown 293
//          (above 255: mov + add, as ARMv6 has no movw)
// At entry the stack holds argc, then argv[0..argc-1], then NULL.
//
// The listings were assembled with llvm-mc (x86_64, aarch64, armv6 triples) and are checked
// instruction by instruction in test/unit/docker-pause-elf.test.ts, which also runs all three
// against a local TCP server (arm ones under qemu-user when installed).

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
  /* 000 */ 0x48, 0x8b, 0x04, 0x24,                  // start: mov rax, [rsp]
  /* 004 */ 0x48, 0x83, 0xf8, 0x03,                  // cmp rax, 3
  /* 008 */ 0x72, 0x4a,                              // jb pause
  /* 00a */ 0x48, 0x8b, 0x5c, 0x24, 0x10,            // mov rbx, [rsp+16]
  /* 00f */ 0x48, 0x8d, 0x6c, 0x24, 0x18,            // lea rbp, [rsp+24]
  /* 014 */ 0x80, 0x3b, 0x72,                        // cmp byte ptr [rbx], 'r'
  /* 017 */ 0x75, 0x11,                              // jne notrename
  /* 019 */ 0x48, 0x8b, 0x7d, 0x00,                  // mov rdi, [rbp]
  /* 01d */ 0x48, 0x8b, 0x75, 0x08,                  // mov rsi, [rbp+8]
  /* 021 */ 0xb8, 0x52, 0x00, 0x00, 0x00,            // mov eax, 82
  /* 026 */ 0x0f, 0x05,                              // syscall
  /* 028 */ 0xeb, 0x1f,                              // jmp exit
  /* 02a */ 0x80, 0x3b, 0x63,                        // notrename: cmp byte ptr [rbx], 'c'
  /* 02d */ 0x74, 0x2e,                              // je relay
  /* 02f */ 0x48, 0x8b, 0x7d, 0x00,                  // unlink: mov rdi, [rbp]
  /* 033 */ 0x31, 0xc0,                              // xor eax, eax
  /* 035 */ 0x48, 0x85, 0xff,                        // test rdi, rdi
  /* 038 */ 0x74, 0x0f,                              // je exit
  /* 03a */ 0xb8, 0x57, 0x00, 0x00, 0x00,            // mov eax, 87
  /* 03f */ 0x0f, 0x05,                              // syscall
  /* 041 */ 0x48, 0x83, 0xc5, 0x08,                  // add rbp, 8
  /* 045 */ 0x85, 0xc0,                              // test eax, eax
  /* 047 */ 0x74, 0xe6,                              // je unlink
  /* 049 */ 0xf7, 0xd8,                              // exit: neg eax
  /* 04b */ 0x89, 0xc7,                              // mov edi, eax
  /* 04d */ 0xb8, 0x3c, 0x00, 0x00, 0x00,            // sysexit: mov eax, 60
  /* 052 */ 0x0f, 0x05,                              // syscall
  /* 054 */ 0xb8, 0x22, 0x00, 0x00, 0x00,            // pause: mov eax, 34
  /* 059 */ 0x0f, 0x05,                              // syscall
  /* 05b */ 0xeb, 0xf7,                              // jmp pause
  /* 05d */ 0x48, 0x8b, 0x75, 0x00,                  // relay: mov rsi, [rbp]
  /* 061 */ 0x31, 0xc9,                              // xor ecx, ecx
  /* 063 */ 0x0f, 0xb6, 0x06,                        // digit: movzx eax, byte ptr [rsi]
  /* 066 */ 0x83, 0xe8, 0x30,                        // sub eax, 48
  /* 069 */ 0x83, 0xf8, 0x09,                        // cmp eax, 9
  /* 06c */ 0x77, 0x0a,                              // ja parsed
  /* 06e */ 0x6b, 0xc9, 0x0a,                        // imul ecx, ecx, 10
  /* 071 */ 0x01, 0xc1,                              // add ecx, eax
  /* 073 */ 0x48, 0xff, 0xc6,                        // inc rsi
  /* 076 */ 0xeb, 0xeb,                              // jmp digit
  /* 078 */ 0x66, 0xc1, 0xc1, 0x08,                  // parsed: rol cx, 8
  /* 07c */ 0xc1, 0xe1, 0x10,                        // shl ecx, 16
  /* 07f */ 0x83, 0xc9, 0x02,                        // or ecx, 2
  /* 082 */ 0x48, 0x81, 0xec, 0x20, 0x40, 0x00, 0x00, // sub rsp, 16416
  /* 089 */ 0x89, 0x0c, 0x24,                        // mov [rsp], ecx
  /* 08c */ 0xc7, 0x44, 0x24, 0x04, 0x7f, 0x00, 0x00, 0x01, // mov dword ptr [rsp+4], 0x0100007f
  /* 094 */ 0x48, 0xc7, 0x44, 0x24, 0x08, 0x00, 0x00, 0x00, 0x00, // mov qword ptr [rsp+8], 0
  /* 09d */ 0xbf, 0x02, 0x00, 0x00, 0x00,            // mov edi, 2
  /* 0a2 */ 0xbe, 0x01, 0x00, 0x00, 0x00,            // mov esi, 1
  /* 0a7 */ 0x31, 0xd2,                              // xor edx, edx
  /* 0a9 */ 0xb8, 0x29, 0x00, 0x00, 0x00,            // mov eax, 41
  /* 0ae */ 0x0f, 0x05,                              // syscall
  /* 0b0 */ 0x85, 0xc0,                              // test eax, eax
  /* 0b2 */ 0x0f, 0x88, 0xf1, 0x00, 0x00, 0x00,      // js fail
  /* 0b8 */ 0x41, 0x89, 0xc4,                        // mov r12d, eax
  /* 0bb */ 0x89, 0xc7,                              // mov edi, eax
  /* 0bd */ 0x48, 0x89, 0xe6,                        // mov rsi, rsp
  /* 0c0 */ 0xba, 0x10, 0x00, 0x00, 0x00,            // mov edx, 16
  /* 0c5 */ 0xb8, 0x2a, 0x00, 0x00, 0x00,            // mov eax, 42
  /* 0ca */ 0x0f, 0x05,                              // syscall
  /* 0cc */ 0x85, 0xc0,                              // test eax, eax
  /* 0ce */ 0x0f, 0x85, 0xd5, 0x00, 0x00, 0x00,      // jne fail
  /* 0d4 */ 0xbf, 0x02, 0x00, 0x00, 0x00,            // mov edi, 2
  /* 0d9 */ 0x48, 0x89, 0xe6,                        // mov rsi, rsp
  /* 0dc */ 0xba, 0x01, 0x00, 0x00, 0x00,            // mov edx, 1
  /* 0e1 */ 0xb8, 0x01, 0x00, 0x00, 0x00,            // mov eax, 1
  /* 0e6 */ 0x0f, 0x05,                              // syscall
  /* 0e8 */ 0x48, 0xc7, 0x44, 0x24, 0x10, 0x00, 0x00, 0x00, 0x00, // mov qword ptr [rsp+16], 0
  /* 0f1 */ 0xc6, 0x44, 0x24, 0x14, 0x01,            // mov byte ptr [rsp+20], 1
  /* 0f6 */ 0x44, 0x89, 0x64, 0x24, 0x18,            // mov [rsp+24], r12d
  /* 0fb */ 0xc7, 0x44, 0x24, 0x1c, 0x01, 0x00, 0x00, 0x00, // mov dword ptr [rsp+28], 1
  /* 103 */ 0x48, 0x8d, 0x7c, 0x24, 0x10,            // loop: lea rdi, [rsp+16]
  /* 108 */ 0xbe, 0x02, 0x00, 0x00, 0x00,            // mov esi, 2
  /* 10d */ 0xba, 0xff, 0xff, 0xff, 0xff,            // mov edx, -1
  /* 112 */ 0xb8, 0x07, 0x00, 0x00, 0x00,            // mov eax, 7
  /* 117 */ 0x0f, 0x05,                              // syscall
  /* 119 */ 0x85, 0xc0,                              // test eax, eax
  /* 11b */ 0x0f, 0x88, 0x88, 0x00, 0x00, 0x00,      // js fail
  /* 121 */ 0x66, 0x83, 0x7c, 0x24, 0x1e, 0x00,      // cmp word ptr [rsp+30], 0
  /* 127 */ 0x74, 0x26,                              // je fromstdin
  /* 129 */ 0x44, 0x89, 0xe7,                        // mov edi, r12d
  /* 12c */ 0x48, 0x8d, 0x74, 0x24, 0x20,            // lea rsi, [rsp+32]
  /* 131 */ 0xba, 0x00, 0x40, 0x00, 0x00,            // mov edx, 16384
  /* 136 */ 0xb8, 0x00, 0x00, 0x00, 0x00,            // mov eax, 0
  /* 13b */ 0x0f, 0x05,                              // syscall
  /* 13d */ 0x85, 0xc0,                              // test eax, eax
  /* 13f */ 0x78, 0x68,                              // js fail
  /* 141 */ 0x74, 0x70,                              // je done
  /* 143 */ 0x89, 0xc2,                              // mov edx, eax
  /* 145 */ 0xbf, 0x01, 0x00, 0x00, 0x00,            // mov edi, 1
  /* 14a */ 0xe8, 0x47, 0x00, 0x00, 0x00,            // call writeall
  /* 14f */ 0x66, 0x83, 0x7c, 0x24, 0x16, 0x00,      // fromstdin: cmp word ptr [rsp+22], 0
  /* 155 */ 0x74, 0xac,                              // je loop
  /* 157 */ 0x31, 0xff,                              // xor edi, edi
  /* 159 */ 0x48, 0x8d, 0x74, 0x24, 0x20,            // lea rsi, [rsp+32]
  /* 15e */ 0xba, 0x00, 0x40, 0x00, 0x00,            // mov edx, 16384
  /* 163 */ 0xb8, 0x00, 0x00, 0x00, 0x00,            // mov eax, 0
  /* 168 */ 0x0f, 0x05,                              // syscall
  /* 16a */ 0x85, 0xc0,                              // test eax, eax
  /* 16c */ 0x7e, 0x0c,                              // jle eof
  /* 16e */ 0x89, 0xc2,                              // mov edx, eax
  /* 170 */ 0x44, 0x89, 0xe7,                        // mov edi, r12d
  /* 173 */ 0xe8, 0x1e, 0x00, 0x00, 0x00,            // call writeall
  /* 178 */ 0xeb, 0x89,                              // jmp loop
  /* 17a */ 0xc7, 0x44, 0x24, 0x10, 0xff, 0xff, 0xff, 0xff, // eof: mov dword ptr [rsp+16], -1
  /* 182 */ 0x44, 0x89, 0xe7,                        // mov edi, r12d
  /* 185 */ 0xbe, 0x01, 0x00, 0x00, 0x00,            // mov esi, 1
  /* 18a */ 0xb8, 0x30, 0x00, 0x00, 0x00,            // mov eax, 48
  /* 18f */ 0x0f, 0x05,                              // syscall
  /* 191 */ 0xe9, 0x6d, 0xff, 0xff, 0xff,            // jmp loop
  /* 196 */ 0xb8, 0x01, 0x00, 0x00, 0x00,            // writeall: mov eax, 1
  /* 19b */ 0x0f, 0x05,                              // syscall
  /* 19d */ 0x85, 0xc0,                              // test eax, eax
  /* 19f */ 0x7e, 0x08,                              // jle fail
  /* 1a1 */ 0x48, 0x01, 0xc6,                        // add rsi, rax
  /* 1a4 */ 0x29, 0xc2,                              // sub edx, eax
  /* 1a6 */ 0x75, 0xee,                              // jne writeall
  /* 1a8 */ 0xc3,                                    // ret
  /* 1a9 */ 0xbf, 0x01, 0x00, 0x00, 0x00,            // fail: mov edi, 1
  /* 1ae */ 0xe9, 0x9a, 0xfe, 0xff, 0xff,            // jmp sysexit
  /* 1b3 */ 0x31, 0xff,                              // done: xor edi, edi
  /* 1b5 */ 0xe9, 0x93, 0xfe, 0xff, 0xff,            // jmp sysexit
]);

const ARM64 = words(
  /* 000 */ 0xf94003e0,  // start: ldr x0, [sp]
  /* 004 */ 0xf1000c1f,  // cmp x0, #3
  /* 008 */ 0x54000343,  // b.lo pause
  /* 00c */ 0xf9400be1,  // ldr x1, [sp, #16]
  /* 010 */ 0x910063f3,  // add x19, sp, #24
  /* 014 */ 0x39400022,  // ldrb w2, [x1]
  /* 018 */ 0x7101c85f,  // cmp w2, #'r'
  /* 01c */ 0x54000101,  // b.ne notrename
  /* 020 */ 0x92800c60,  // mov x0, #-100
  /* 024 */ 0xf9400261,  // ldr x1, [x19]
  /* 028 */ 0x92800c62,  // mov x2, #-100
  /* 02c */ 0xf9400663,  // ldr x3, [x19, #8]
  /* 030 */ 0xd28004c8,  // mov x8, #38
  /* 034 */ 0xd4000001,  // svc #0
  /* 038 */ 0x1400000b,  // b exit
  /* 03c */ 0x71018c5f,  // notrename: cmp w2, #'c'
  /* 040 */ 0x54000280,  // b.eq relay
  /* 044 */ 0xf8408661,  // unlink: ldr x1, [x19], #8
  /* 048 */ 0xd2800000,  // mov x0, #0
  /* 04c */ 0xb40000c1,  // cbz x1, exit
  /* 050 */ 0x92800c60,  // mov x0, #-100
  /* 054 */ 0xd2800002,  // mov x2, #0
  /* 058 */ 0xd2800468,  // mov x8, #35
  /* 05c */ 0xd4000001,  // svc #0
  /* 060 */ 0xb4ffff20,  // cbz x0, unlink
  /* 064 */ 0x4b0003e0,  // exit: neg w0, w0
  /* 068 */ 0xd2800ba8,  // sysexit: mov x8, #93
  /* 06c */ 0xd4000001,  // svc #0
  /* 070 */ 0xd2800000,  // pause: mov x0, #0
  /* 074 */ 0xd2800001,  // mov x1, #0
  /* 078 */ 0xd2800002,  // mov x2, #0
  /* 07c */ 0xd2800003,  // mov x3, #0
  /* 080 */ 0xd2800004,  // mov x4, #0
  /* 084 */ 0xd2800928,  // mov x8, #73
  /* 088 */ 0xd4000001,  // svc #0
  /* 08c */ 0x17fffff9,  // b pause
  /* 090 */ 0xf9400261,  // relay: ldr x1, [x19]
  /* 094 */ 0x52800002,  // mov w2, #0
  /* 098 */ 0x52800144,  // mov w4, #10
  /* 09c */ 0x38401423,  // digit: ldrb w3, [x1], #1
  /* 0a0 */ 0x5100c063,  // sub w3, w3, #48
  /* 0a4 */ 0x7100247f,  // cmp w3, #9
  /* 0a8 */ 0x54000068,  // b.hi parsed
  /* 0ac */ 0x1b040c42,  // madd w2, w2, w4, w3
  /* 0b0 */ 0x17fffffb,  // b digit
  /* 0b4 */ 0x5ac00442,  // parsed: rev16 w2, w2
  /* 0b8 */ 0x53103c42,  // lsl w2, w2, #16
  /* 0bc */ 0x321f0042,  // orr w2, w2, #2
  /* 0c0 */ 0xd14013ff,  // sub sp, sp, #4, lsl #12
  /* 0c4 */ 0xd10083ff,  // sub sp, sp, #32
  /* 0c8 */ 0xb90003e2,  // str w2, [sp]
  /* 0cc */ 0x52800fe3,  // mov w3, #0x7f
  /* 0d0 */ 0x72a02003,  // movk w3, #0x100, lsl #16
  /* 0d4 */ 0xb90007e3,  // str w3, [sp, #4]
  /* 0d8 */ 0xf90007ff,  // str xzr, [sp, #8]
  /* 0dc */ 0xd2800040,  // mov x0, #2
  /* 0e0 */ 0xd2800021,  // mov x1, #1
  /* 0e4 */ 0xd2800002,  // mov x2, #0
  /* 0e8 */ 0xd28018c8,  // mov x8, #198
  /* 0ec */ 0xd4000001,  // svc #0
  /* 0f0 */ 0xf100001f,  // cmp x0, #0
  /* 0f4 */ 0x540008eb,  // b.lt fail
  /* 0f8 */ 0xaa0003f4,  // mov x20, x0
  /* 0fc */ 0x910003e1,  // mov x1, sp
  /* 100 */ 0xd2800202,  // mov x2, #16
  /* 104 */ 0xd2801968,  // mov x8, #203
  /* 108 */ 0xd4000001,  // svc #0
  /* 10c */ 0xb5000820,  // cbnz x0, fail
  /* 110 */ 0xd2800040,  // mov x0, #2
  /* 114 */ 0x910003e1,  // mov x1, sp
  /* 118 */ 0xd2800022,  // mov x2, #1
  /* 11c */ 0xd2800808,  // mov x8, #64
  /* 120 */ 0xd4000001,  // svc #0
  /* 124 */ 0x52800023,  // mov w3, #1
  /* 128 */ 0xf9000bff,  // str xzr, [sp, #16]
  /* 12c */ 0xb90017e3,  // str w3, [sp, #20]
  /* 130 */ 0xb9001bf4,  // str w20, [sp, #24]
  /* 134 */ 0xb9001fe3,  // str w3, [sp, #28]
  /* 138 */ 0x910043e0,  // loop: add x0, sp, #16
  /* 13c */ 0xd2800041,  // mov x1, #2
  /* 140 */ 0xd2800002,  // mov x2, #0
  /* 144 */ 0xd2800003,  // mov x3, #0
  /* 148 */ 0xd2800004,  // mov x4, #0
  /* 14c */ 0xd2800928,  // mov x8, #73
  /* 150 */ 0xd4000001,  // svc #0
  /* 154 */ 0xf100001f,  // cmp x0, #0
  /* 158 */ 0x540005cb,  // b.lt fail
  /* 15c */ 0x79403fe3,  // ldrh w3, [sp, #30]
  /* 160 */ 0x340001a3,  // cbz w3, fromstdin
  /* 164 */ 0xaa1403e0,  // mov x0, x20
  /* 168 */ 0x910083e1,  // add x1, sp, #32
  /* 16c */ 0xd2880002,  // mov x2, #16384
  /* 170 */ 0xd28007e8,  // mov x8, #63
  /* 174 */ 0xd4000001,  // svc #0
  /* 178 */ 0xf100001f,  // cmp x0, #0
  /* 17c */ 0x540004ab,  // b.lt fail
  /* 180 */ 0x540004c0,  // b.eq done
  /* 184 */ 0xaa0003e2,  // mov x2, x0
  /* 188 */ 0xd2800020,  // mov x0, #1
  /* 18c */ 0x910083e1,  // add x1, sp, #32
  /* 190 */ 0x94000016,  // bl writeall
  /* 194 */ 0x79402fe3,  // fromstdin: ldrh w3, [sp, #22]
  /* 198 */ 0x34fffd03,  // cbz w3, loop
  /* 19c */ 0xd2800000,  // mov x0, #0
  /* 1a0 */ 0x910083e1,  // add x1, sp, #32
  /* 1a4 */ 0xd2880002,  // mov x2, #16384
  /* 1a8 */ 0xd28007e8,  // mov x8, #63
  /* 1ac */ 0xd4000001,  // svc #0
  /* 1b0 */ 0xf100001f,  // cmp x0, #0
  /* 1b4 */ 0x540000cd,  // b.le eof
  /* 1b8 */ 0xaa0003e2,  // mov x2, x0
  /* 1bc */ 0xaa1403e0,  // mov x0, x20
  /* 1c0 */ 0x910083e1,  // add x1, sp, #32
  /* 1c4 */ 0x94000009,  // bl writeall
  /* 1c8 */ 0x17ffffdc,  // b loop
  /* 1cc */ 0x12800003,  // eof: mov w3, #-1
  /* 1d0 */ 0xb90013e3,  // str w3, [sp, #16]
  /* 1d4 */ 0xaa1403e0,  // mov x0, x20
  /* 1d8 */ 0xd2800021,  // mov x1, #1
  /* 1dc */ 0xd2801a48,  // mov x8, #210
  /* 1e0 */ 0xd4000001,  // svc #0
  /* 1e4 */ 0x17ffffd5,  // b loop
  /* 1e8 */ 0xaa0003e5,  // writeall: mov x5, x0
  /* 1ec */ 0xaa0503e0,  // writemore: mov x0, x5
  /* 1f0 */ 0xd2800808,  // mov x8, #64
  /* 1f4 */ 0xd4000001,  // svc #0
  /* 1f8 */ 0xf100001f,  // cmp x0, #0
  /* 1fc */ 0x540000ad,  // b.le fail
  /* 200 */ 0x8b000021,  // add x1, x1, x0
  /* 204 */ 0xcb000042,  // sub x2, x2, x0
  /* 208 */ 0xb5ffff22,  // cbnz x2, writemore
  /* 20c */ 0xd65f03c0,  // ret
  /* 210 */ 0xd2800020,  // fail: mov x0, #1
  /* 214 */ 0x17ffff95,  // b sysexit
  /* 218 */ 0xd2800000,  // done: mov x0, #0
  /* 21c */ 0x17ffff93,  // b sysexit
);

const ARM = words(
  /* 000 */ 0xe59d0000,  // start: ldr r0, [sp]
  /* 004 */ 0xe3500003,  // cmp r0, #3
  /* 008 */ 0x3a000015,  // blo pause
  /* 00c */ 0xe59d1008,  // ldr r1, [sp, #8]
  /* 010 */ 0xe28d400c,  // add r4, sp, #12
  /* 014 */ 0xe5d12000,  // ldrb r2, [r1]
  /* 018 */ 0xe3520072,  // cmp r2, #'r'
  /* 01c */ 0x1a000004,  // bne notrename
  /* 020 */ 0xe5940000,  // ldr r0, [r4]
  /* 024 */ 0xe5941004,  // ldr r1, [r4, #4]
  /* 028 */ 0xe3a07026,  // mov r7, #38
  /* 02c */ 0xef000000,  // svc #0
  /* 030 */ 0xea000008,  // b exit
  /* 034 */ 0xe3520063,  // notrename: cmp r2, #'c'
  /* 038 */ 0x0a00000c,  // beq relay
  /* 03c */ 0xe4940004,  // unlink: ldr r0, [r4], #4
  /* 040 */ 0xe3500000,  // cmp r0, #0
  /* 044 */ 0x0a000003,  // beq exit
  /* 048 */ 0xe3a0700a,  // mov r7, #10
  /* 04c */ 0xef000000,  // svc #0
  /* 050 */ 0xe3500000,  // cmp r0, #0
  /* 054 */ 0x0afffff8,  // beq unlink
  /* 058 */ 0xe2600000,  // exit: rsb r0, r0, #0
  /* 05c */ 0xe3a07001,  // sysexit: mov r7, #1
  /* 060 */ 0xef000000,  // svc #0
  /* 064 */ 0xe3a0701d,  // pause: mov r7, #29
  /* 068 */ 0xef000000,  // svc #0
  /* 06c */ 0xeafffffc,  // b pause
  /* 070 */ 0xe5941000,  // relay: ldr r1, [r4]
  /* 074 */ 0xe3a02000,  // mov r2, #0
  /* 078 */ 0xe3a0600a,  // mov r6, #10
  /* 07c */ 0xe4d13001,  // digit: ldrb r3, [r1], #1
  /* 080 */ 0xe2433030,  // sub r3, r3, #48
  /* 084 */ 0xe3530009,  // cmp r3, #9
  /* 088 */ 0x8a000001,  // bhi parsed
  /* 08c */ 0xe0223296,  // mla r2, r6, r2, r3
  /* 090 */ 0xeafffff9,  // b digit
  /* 094 */ 0xe6bf2fb2,  // parsed: rev16 r2, r2
  /* 098 */ 0xe1a02802,  // lsl r2, r2, #16
  /* 09c */ 0xe3822002,  // orr r2, r2, #2
  /* 0a0 */ 0xe24dd901,  // sub sp, sp, #16384
  /* 0a4 */ 0xe24dd020,  // sub sp, sp, #32
  /* 0a8 */ 0xe58d2000,  // str r2, [sp]
  /* 0ac */ 0xe3a0307f,  // mov r3, #0x7f
  /* 0b0 */ 0xe3833401,  // orr r3, r3, #0x1000000
  /* 0b4 */ 0xe58d3004,  // str r3, [sp, #4]
  /* 0b8 */ 0xe3a03000,  // mov r3, #0
  /* 0bc */ 0xe58d3008,  // str r3, [sp, #8]
  /* 0c0 */ 0xe58d300c,  // str r3, [sp, #12]
  /* 0c4 */ 0xe3a00002,  // mov r0, #2
  /* 0c8 */ 0xe3a01001,  // mov r1, #1
  /* 0cc */ 0xe3a02000,  // mov r2, #0
  /* 0d0 */ 0xe3a07c01,  // mov r7, #256
  /* 0d4 */ 0xe2877019,  // add r7, r7, #25
  /* 0d8 */ 0xef000000,  // svc #0
  /* 0dc */ 0xe3500000,  // cmp r0, #0
  /* 0e0 */ 0xba000049,  // blt fail
  /* 0e4 */ 0xe1a05000,  // mov r5, r0
  /* 0e8 */ 0xe1a0100d,  // mov r1, sp
  /* 0ec */ 0xe3a02010,  // mov r2, #16
  /* 0f0 */ 0xe3a07c01,  // mov r7, #256
  /* 0f4 */ 0xe287701b,  // add r7, r7, #27
  /* 0f8 */ 0xef000000,  // svc #0
  /* 0fc */ 0xe3500000,  // cmp r0, #0
  /* 100 */ 0x1a000041,  // bne fail
  /* 104 */ 0xe3a00002,  // mov r0, #2
  /* 108 */ 0xe1a0100d,  // mov r1, sp
  /* 10c */ 0xe3a02001,  // mov r2, #1
  /* 110 */ 0xe3a07004,  // mov r7, #4
  /* 114 */ 0xef000000,  // svc #0
  /* 118 */ 0xe3a03000,  // mov r3, #0
  /* 11c */ 0xe58d3010,  // str r3, [sp, #16]
  /* 120 */ 0xe3a03001,  // mov r3, #1
  /* 124 */ 0xe58d3014,  // str r3, [sp, #20]
  /* 128 */ 0xe58d5018,  // str r5, [sp, #24]
  /* 12c */ 0xe58d301c,  // str r3, [sp, #28]
  /* 130 */ 0xe28d0010,  // loop: add r0, sp, #16
  /* 134 */ 0xe3a01002,  // mov r1, #2
  /* 138 */ 0xe3e02000,  // mvn r2, #0
  /* 13c */ 0xe3a070a8,  // mov r7, #168
  /* 140 */ 0xef000000,  // svc #0
  /* 144 */ 0xe3500000,  // cmp r0, #0
  /* 148 */ 0xba00002f,  // blt fail
  /* 14c */ 0xe1dd31be,  // ldrh r3, [sp, #30]
  /* 150 */ 0xe3530000,  // cmp r3, #0
  /* 154 */ 0x0a00000b,  // beq fromstdin
  /* 158 */ 0xe1a00005,  // mov r0, r5
  /* 15c */ 0xe28d1020,  // add r1, sp, #32
  /* 160 */ 0xe3a02901,  // mov r2, #16384
  /* 164 */ 0xe3a07003,  // mov r7, #3
  /* 168 */ 0xef000000,  // svc #0
  /* 16c */ 0xe3500000,  // cmp r0, #0
  /* 170 */ 0xba000025,  // blt fail
  /* 174 */ 0x0a000026,  // beq done
  /* 178 */ 0xe1a02000,  // mov r2, r0
  /* 17c */ 0xe3a00001,  // mov r0, #1
  /* 180 */ 0xe28d1020,  // add r1, sp, #32
  /* 184 */ 0xeb000016,  // bl writeall
  /* 188 */ 0xe1dd31b6,  // fromstdin: ldrh r3, [sp, #22]
  /* 18c */ 0xe3530000,  // cmp r3, #0
  /* 190 */ 0x0affffe6,  // beq loop
  /* 194 */ 0xe3a00000,  // mov r0, #0
  /* 198 */ 0xe28d1020,  // add r1, sp, #32
  /* 19c */ 0xe3a02901,  // mov r2, #16384
  /* 1a0 */ 0xe3a07003,  // mov r7, #3
  /* 1a4 */ 0xef000000,  // svc #0
  /* 1a8 */ 0xe3500000,  // cmp r0, #0
  /* 1ac */ 0xda000004,  // ble eof
  /* 1b0 */ 0xe1a02000,  // mov r2, r0
  /* 1b4 */ 0xe1a00005,  // mov r0, r5
  /* 1b8 */ 0xe28d1020,  // add r1, sp, #32
  /* 1bc */ 0xeb000008,  // bl writeall
  /* 1c0 */ 0xeaffffda,  // b loop
  /* 1c4 */ 0xe3e03000,  // eof: mvn r3, #0
  /* 1c8 */ 0xe58d3010,  // str r3, [sp, #16]
  /* 1cc */ 0xe1a00005,  // mov r0, r5
  /* 1d0 */ 0xe3a01001,  // mov r1, #1
  /* 1d4 */ 0xe3a07c01,  // mov r7, #256
  /* 1d8 */ 0xe2877025,  // add r7, r7, #37
  /* 1dc */ 0xef000000,  // svc #0
  /* 1e0 */ 0xeaffffd2,  // b loop
  /* 1e4 */ 0xe1a06000,  // writeall: mov r6, r0
  /* 1e8 */ 0xe1a00006,  // writemore: mov r0, r6
  /* 1ec */ 0xe3a07004,  // mov r7, #4
  /* 1f0 */ 0xef000000,  // svc #0
  /* 1f4 */ 0xe3500000,  // cmp r0, #0
  /* 1f8 */ 0xda000003,  // ble fail
  /* 1fc */ 0xe0811000,  // add r1, r1, r0
  /* 200 */ 0xe0522000,  // subs r2, r2, r0
  /* 204 */ 0x1afffff7,  // bne writemore
  /* 208 */ 0xe12fff1e,  // bx lr
  /* 20c */ 0xe3a00001,  // fail: mov r0, #1
  /* 210 */ 0xeaffff91,  // b sysexit
  /* 214 */ 0xe3a00000,  // done: mov r0, #0
  /* 218 */ 0xeaffff8f,  // b sysexit
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
