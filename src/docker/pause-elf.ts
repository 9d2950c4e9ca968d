// The sandbox's only program, written out as machine code because nothing can be downloaded or
// compiled on the device: a static ELF of about 1.2 KiB, no libc, one loadable segment.
//
//   /pause                  waits for a signal forever (PID 1 of every pod sandbox)
//   /pause r SRC DST        rename(SRC, DST): the atomic `..data` swap of volume files
//   /pause u PATH...        unlink each PATH, stopping at the first failure
//   /pause c PORT           relay stdin/stdout to 127.0.0.1:PORT (TCP)
//   /pause l LPORT ADDR PORT [ADDR PORT]...
//                           TCP balancer: listen on 0.0.0.0:LPORT, relay each connection to the
//                           backends ADDR:PORT in turn
// Fewer than two arguments (`/pause`, `/pause l`) pause: the mode letter is read only after that.
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
// l is the Services' load balancer, for a container that has no shell and maybe no balancer of
// its own. Every number is decimal, ADDR included: an IPv4 address as one number in host order
// (10.0.0.5 is 167772165; sandbox.ts listenArgs writes them), so one small parser serves all.
// Before anything else it checks the whole argument list: a missing or odd backend list, an
// empty or non-digit number, or a port above 65535 exits 2 (ADDR wraps modulo 2^32 unchecked).
// Then it ignores SIGCHLD (rt_sigaction SIG_IGN: the kernel reaps the children, as nobody waits
// for them), opens a TCP socket with SO_REUSEADDR, binds 0.0.0.0:LPORT and listens (backlog 128);
// a failure there exits with its errno (EADDRINUSE: 98). It then accepts for ever (a failed accept
// is retried) and forks per connection. The parent closes the connection and moves the
// round-robin index on. The child closes the listening socket, dup2s the connection onto fds 0
// and 1, connects to backend (index) and, when refused, to the ones after it in order (exit 1
// when none answers), then joins c's relay loop after c's "connected" byte: stderr is the
// container log. Its frame is c's: the bind address at sp, the struct sigaction
// {SIG_IGN, flags 0, restorer 0, mask 0} from sp+16 (amd64: at the frame's far end, as pushed;
// its handler word 1 doubles as setsockopt's int 1), overwritten by the relay once a child runs.
// The backends' sockaddr_ins are parsed into argv itself, before the fork, so that no table has
// to be sized: the argv slots of backend k's ADDR and PORT get the first 8 bytes of its
// sockaddr_in ({AF_INET, port, address}; entries 16 bytes apart on 64-bit, 8 on arm), and
// connect reads 16 bytes from there: the rest is sin_zero, which Linux ignores (on arm the last
// entry reads argv's NULL and envp[0]). The round-robin index counts bytes into that table.
//
// Per architecture (syscall numbers from each arch's table):
//   amd64: pause 34, rename 82, unlink 87, exit 60, socket 41, connect 42, poll 7, read 0,
//          write 1, shutdown 48, rt_sigaction 13, setsockopt 54, bind 49, listen 50, accept 43,
//          fork 57, close 3, dup2 33
//   arm64: no pause (ppoll(NULL, 0, NULL, NULL, 0) 73 blocks the same way, and ppoll with a NULL
//          timeout stands in for poll), renameat 38, unlinkat 35 (with AT_FDCWD = -100), exit 93,
//          socket 198, connect 203, read 63, write 64, shutdown 210, rt_sigaction 134,
//          setsockopt 208, bind 200, listen 201, close 57; no accept (accept4 242 with flags 0),
//          no fork (clone 220 with flags SIGCHLD = 17 and no new stack), no dup2 (dup3 24 with
//          flags 0; it refuses old == new, which leaves that fd as wanted anyway)
//   arm (EABI, A32 instructions up to ARMv6, so ARMv6 boards run it too): pause 29, rename 38,
//          unlink 10, exit 1, socket 281, connect 283, poll 168, read 3, write 4, shutdown 293,
//          rt_sigaction 174, setsockopt 294, bind 282, listen 284, accept 285, fork 2, close 6,
//          dup2 63 (above 255: mov + add, as ARMv6 has no movw)
// At entry the stack holds argc, then argv[0..argc-1], then NULL, then envp.
//
// The listings were assembled with llvm-mc (x86_64, aarch64, armv6 triples) and are checked
// instruction by instruction in test/unit/docker-pause-elf.test.ts, which also runs all three
// against local TCP servers (arm ones under qemu-user when installed).

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
  /* 008 */ 0x72, 0x53,                              // jb pause
  /* 00a */ 0x48, 0x8b, 0x5c, 0x24, 0x10,            // mov rbx, [rsp+16]
  /* 00f */ 0x48, 0x8d, 0x6c, 0x24, 0x18,            // lea rbp, [rsp+24]
  /* 014 */ 0x80, 0x3b, 0x72,                        // cmp byte ptr [rbx], 'r'
  /* 017 */ 0x75, 0x11,                              // jne notrename
  /* 019 */ 0x48, 0x8b, 0x7d, 0x00,                  // mov rdi, [rbp]
  /* 01d */ 0x48, 0x8b, 0x75, 0x08,                  // mov rsi, [rbp+8]
  /* 021 */ 0xb8, 0x52, 0x00, 0x00, 0x00,            // mov eax, 82
  /* 026 */ 0x0f, 0x05,                              // syscall
  /* 028 */ 0xeb, 0x28,                              // jmp exit
  /* 02a */ 0x80, 0x3b, 0x63,                        // notrename: cmp byte ptr [rbx], 'c'
  /* 02d */ 0x74, 0x37,                              // je relay
  /* 02f */ 0x80, 0x3b, 0x6c,                        // cmp byte ptr [rbx], 'l'
  /* 032 */ 0x0f, 0x84, 0x8b, 0x01, 0x00, 0x00,      // je listen
  /* 038 */ 0x48, 0x8b, 0x7d, 0x00,                  // unlink: mov rdi, [rbp]
  /* 03c */ 0x31, 0xc0,                              // xor eax, eax
  /* 03e */ 0x48, 0x85, 0xff,                        // test rdi, rdi
  /* 041 */ 0x74, 0x0f,                              // je exit
  /* 043 */ 0xb8, 0x57, 0x00, 0x00, 0x00,            // mov eax, 87
  /* 048 */ 0x0f, 0x05,                              // syscall
  /* 04a */ 0x48, 0x83, 0xc5, 0x08,                  // add rbp, 8
  /* 04e */ 0x85, 0xc0,                              // test eax, eax
  /* 050 */ 0x74, 0xe6,                              // je unlink
  /* 052 */ 0xf7, 0xd8,                              // exit: neg eax
  /* 054 */ 0x89, 0xc7,                              // mov edi, eax
  /* 056 */ 0xb8, 0x3c, 0x00, 0x00, 0x00,            // sysexit: mov eax, 60
  /* 05b */ 0x0f, 0x05,                              // syscall
  /* 05d */ 0xb8, 0x22, 0x00, 0x00, 0x00,            // pause: mov eax, 34
  /* 062 */ 0x0f, 0x05,                              // syscall
  /* 064 */ 0xeb, 0xf7,                              // jmp pause
  /* 066 */ 0x48, 0x8b, 0x75, 0x00,                  // relay: mov rsi, [rbp]
  /* 06a */ 0x31, 0xc9,                              // xor ecx, ecx
  /* 06c */ 0x0f, 0xb6, 0x06,                        // digit: movzx eax, byte ptr [rsi]
  /* 06f */ 0x83, 0xe8, 0x30,                        // sub eax, 48
  /* 072 */ 0x83, 0xf8, 0x09,                        // cmp eax, 9
  /* 075 */ 0x77, 0x0a,                              // ja parsed
  /* 077 */ 0x6b, 0xc9, 0x0a,                        // imul ecx, ecx, 10
  /* 07a */ 0x01, 0xc1,                              // add ecx, eax
  /* 07c */ 0x48, 0xff, 0xc6,                        // inc rsi
  /* 07f */ 0xeb, 0xeb,                              // jmp digit
  /* 081 */ 0x66, 0xc1, 0xc1, 0x08,                  // parsed: rol cx, 8
  /* 085 */ 0xc1, 0xe1, 0x10,                        // shl ecx, 16
  /* 088 */ 0x83, 0xc9, 0x02,                        // or ecx, 2
  /* 08b */ 0x48, 0x81, 0xec, 0x20, 0x40, 0x00, 0x00, // sub rsp, 16416
  /* 092 */ 0x89, 0x0c, 0x24,                        // mov [rsp], ecx
  /* 095 */ 0xc7, 0x44, 0x24, 0x04, 0x7f, 0x00, 0x00, 0x01, // mov dword ptr [rsp+4], 0x0100007f
  /* 09d */ 0x48, 0xc7, 0x44, 0x24, 0x08, 0x00, 0x00, 0x00, 0x00, // mov qword ptr [rsp+8], 0
  /* 0a6 */ 0xbf, 0x02, 0x00, 0x00, 0x00,            // mov edi, 2
  /* 0ab */ 0xbe, 0x01, 0x00, 0x00, 0x00,            // mov esi, 1
  /* 0b0 */ 0x31, 0xd2,                              // xor edx, edx
  /* 0b2 */ 0xb8, 0x29, 0x00, 0x00, 0x00,            // mov eax, 41
  /* 0b7 */ 0x0f, 0x05,                              // syscall
  /* 0b9 */ 0x85, 0xc0,                              // test eax, eax
  /* 0bb */ 0x0f, 0x88, 0xf1, 0x00, 0x00, 0x00,      // js fail
  /* 0c1 */ 0x41, 0x89, 0xc4,                        // mov r12d, eax
  /* 0c4 */ 0x89, 0xc7,                              // mov edi, eax
  /* 0c6 */ 0x48, 0x89, 0xe6,                        // mov rsi, rsp
  /* 0c9 */ 0xba, 0x10, 0x00, 0x00, 0x00,            // mov edx, 16
  /* 0ce */ 0xb8, 0x2a, 0x00, 0x00, 0x00,            // mov eax, 42
  /* 0d3 */ 0x0f, 0x05,                              // syscall
  /* 0d5 */ 0x85, 0xc0,                              // test eax, eax
  /* 0d7 */ 0x0f, 0x85, 0xd5, 0x00, 0x00, 0x00,      // jne fail
  /* 0dd */ 0xbf, 0x02, 0x00, 0x00, 0x00,            // mov edi, 2
  /* 0e2 */ 0x48, 0x89, 0xe6,                        // mov rsi, rsp
  /* 0e5 */ 0xba, 0x01, 0x00, 0x00, 0x00,            // mov edx, 1
  /* 0ea */ 0xb8, 0x01, 0x00, 0x00, 0x00,            // mov eax, 1
  /* 0ef */ 0x0f, 0x05,                              // syscall
  /* 0f1 */ 0x48, 0xc7, 0x44, 0x24, 0x10, 0x00, 0x00, 0x00, 0x00, // fds: mov qword ptr [rsp+16], 0
  /* 0fa */ 0xc6, 0x44, 0x24, 0x14, 0x01,            // mov byte ptr [rsp+20], 1
  /* 0ff */ 0x44, 0x89, 0x64, 0x24, 0x18,            // mov [rsp+24], r12d
  /* 104 */ 0xc7, 0x44, 0x24, 0x1c, 0x01, 0x00, 0x00, 0x00, // mov dword ptr [rsp+28], 1
  /* 10c */ 0x48, 0x8d, 0x7c, 0x24, 0x10,            // loop: lea rdi, [rsp+16]
  /* 111 */ 0xbe, 0x02, 0x00, 0x00, 0x00,            // mov esi, 2
  /* 116 */ 0xba, 0xff, 0xff, 0xff, 0xff,            // mov edx, -1
  /* 11b */ 0xb8, 0x07, 0x00, 0x00, 0x00,            // mov eax, 7
  /* 120 */ 0x0f, 0x05,                              // syscall
  /* 122 */ 0x85, 0xc0,                              // test eax, eax
  /* 124 */ 0x0f, 0x88, 0x88, 0x00, 0x00, 0x00,      // js fail
  /* 12a */ 0x66, 0x83, 0x7c, 0x24, 0x1e, 0x00,      // cmp word ptr [rsp+30], 0
  /* 130 */ 0x74, 0x26,                              // je fromstdin
  /* 132 */ 0x44, 0x89, 0xe7,                        // mov edi, r12d
  /* 135 */ 0x48, 0x8d, 0x74, 0x24, 0x20,            // lea rsi, [rsp+32]
  /* 13a */ 0xba, 0x00, 0x40, 0x00, 0x00,            // mov edx, 16384
  /* 13f */ 0xb8, 0x00, 0x00, 0x00, 0x00,            // mov eax, 0
  /* 144 */ 0x0f, 0x05,                              // syscall
  /* 146 */ 0x85, 0xc0,                              // test eax, eax
  /* 148 */ 0x78, 0x68,                              // js fail
  /* 14a */ 0x74, 0x70,                              // je done
  /* 14c */ 0x89, 0xc2,                              // mov edx, eax
  /* 14e */ 0xbf, 0x01, 0x00, 0x00, 0x00,            // mov edi, 1
  /* 153 */ 0xe8, 0x47, 0x00, 0x00, 0x00,            // call writeall
  /* 158 */ 0x66, 0x83, 0x7c, 0x24, 0x16, 0x00,      // fromstdin: cmp word ptr [rsp+22], 0
  /* 15e */ 0x74, 0xac,                              // je loop
  /* 160 */ 0x31, 0xff,                              // xor edi, edi
  /* 162 */ 0x48, 0x8d, 0x74, 0x24, 0x20,            // lea rsi, [rsp+32]
  /* 167 */ 0xba, 0x00, 0x40, 0x00, 0x00,            // mov edx, 16384
  /* 16c */ 0xb8, 0x00, 0x00, 0x00, 0x00,            // mov eax, 0
  /* 171 */ 0x0f, 0x05,                              // syscall
  /* 173 */ 0x85, 0xc0,                              // test eax, eax
  /* 175 */ 0x7e, 0x0c,                              // jle eof
  /* 177 */ 0x89, 0xc2,                              // mov edx, eax
  /* 179 */ 0x44, 0x89, 0xe7,                        // mov edi, r12d
  /* 17c */ 0xe8, 0x1e, 0x00, 0x00, 0x00,            // call writeall
  /* 181 */ 0xeb, 0x89,                              // jmp loop
  /* 183 */ 0xc7, 0x44, 0x24, 0x10, 0xff, 0xff, 0xff, 0xff, // eof: mov dword ptr [rsp+16], -1
  /* 18b */ 0x44, 0x89, 0xe7,                        // mov edi, r12d
  /* 18e */ 0xbe, 0x01, 0x00, 0x00, 0x00,            // mov esi, 1
  /* 193 */ 0xb8, 0x30, 0x00, 0x00, 0x00,            // mov eax, 48
  /* 198 */ 0x0f, 0x05,                              // syscall
  /* 19a */ 0xe9, 0x6d, 0xff, 0xff, 0xff,            // jmp loop
  /* 19f */ 0xb8, 0x01, 0x00, 0x00, 0x00,            // writeall: mov eax, 1
  /* 1a4 */ 0x0f, 0x05,                              // syscall
  /* 1a6 */ 0x85, 0xc0,                              // test eax, eax
  /* 1a8 */ 0x7e, 0x08,                              // jle fail
  /* 1aa */ 0x48, 0x01, 0xc6,                        // add rsi, rax
  /* 1ad */ 0x29, 0xc2,                              // sub edx, eax
  /* 1af */ 0x75, 0xee,                              // jne writeall
  /* 1b1 */ 0xc3,                                    // ret
  /* 1b2 */ 0xbf, 0x01, 0x00, 0x00, 0x00,            // fail: mov edi, 1
  /* 1b7 */ 0xe9, 0x9a, 0xfe, 0xff, 0xff,            // jmp sysexit
  /* 1bc */ 0x31, 0xff,                              // done: xor edi, edi
  /* 1be */ 0xe9, 0x93, 0xfe, 0xff, 0xff,            // jmp sysexit
  /* 1c3 */ 0xa8, 0x01,                              // listen: test al, 1
  /* 1c5 */ 0x0f, 0x84, 0xe7, 0x01, 0x00, 0x00,      // jz badargs
  /* 1cb */ 0x48, 0x83, 0xf8, 0x05,                  // cmp rax, 5
  /* 1cf */ 0x0f, 0x82, 0xdd, 0x01, 0x00, 0x00,      // jb badargs
  /* 1d5 */ 0x44, 0x8d, 0x2c, 0xc5, 0xe8, 0xff, 0xff, 0xff, // lea r13d, [rax*8-24]
  /* 1dd */ 0x48, 0x8d, 0x5d, 0x08,                  // lea rbx, [rbp+8]
  /* 1e1 */ 0x49, 0x89, 0xdc,                        // mov r12, rbx
  /* 1e4 */ 0x49, 0x8b, 0x34, 0x24,                  // backends: mov rsi, [r12]
  /* 1e8 */ 0x48, 0x85, 0xf6,                        // test rsi, rsi
  /* 1eb */ 0x74, 0x28,                              // jz ignore
  /* 1ed */ 0xe8, 0x8d, 0x01, 0x00, 0x00,            // call number
  /* 1f2 */ 0x0f, 0xc9,                              // bswap ecx
  /* 1f4 */ 0x41, 0x89, 0xce,                        // mov r14d, ecx
  /* 1f7 */ 0x49, 0x8b, 0x74, 0x24, 0x08,            // mov rsi, [r12+8]
  /* 1fc */ 0xe8, 0x7e, 0x01, 0x00, 0x00,            // call number
  /* 201 */ 0xe8, 0x99, 0x01, 0x00, 0x00,            // call head
  /* 206 */ 0x41, 0x89, 0x0c, 0x24,                  // mov [r12], ecx
  /* 20a */ 0x45, 0x89, 0x74, 0x24, 0x04,            // mov [r12+4], r14d
  /* 20f */ 0x49, 0x83, 0xc4, 0x10,                  // add r12, 16
  /* 213 */ 0xeb, 0xcf,                              // jmp backends
  /* 215 */ 0x6a, 0x00,                              // ignore: push 0
  /* 217 */ 0x6a, 0x00,                              // push 0
  /* 219 */ 0x6a, 0x00,                              // push 0
  /* 21b */ 0x6a, 0x01,                              // push 1
  /* 21d */ 0xbf, 0x11, 0x00, 0x00, 0x00,            // mov edi, 17
  /* 222 */ 0x48, 0x89, 0xe6,                        // mov rsi, rsp
  /* 225 */ 0x31, 0xd2,                              // xor edx, edx
  /* 227 */ 0x41, 0xba, 0x08, 0x00, 0x00, 0x00,      // mov r10d, 8
  /* 22d */ 0xb8, 0x0d, 0x00, 0x00, 0x00,            // mov eax, 13
  /* 232 */ 0x0f, 0x05,                              // syscall
  /* 234 */ 0x48, 0x81, 0xec, 0x00, 0x40, 0x00, 0x00, // sub rsp, 16384
  /* 23b */ 0x48, 0x8b, 0x75, 0x00,                  // mov rsi, [rbp]
  /* 23f */ 0xe8, 0x3b, 0x01, 0x00, 0x00,            // call number
  /* 244 */ 0xe8, 0x56, 0x01, 0x00, 0x00,            // call head
  /* 249 */ 0x48, 0x89, 0x0c, 0x24,                  // mov [rsp], rcx
  /* 24d */ 0xbf, 0x02, 0x00, 0x00, 0x00,            // mov edi, 2
  /* 252 */ 0xbe, 0x01, 0x00, 0x00, 0x00,            // mov esi, 1
  /* 257 */ 0x31, 0xd2,                              // xor edx, edx
  /* 259 */ 0xb8, 0x29, 0x00, 0x00, 0x00,            // mov eax, 41
  /* 25e */ 0x0f, 0x05,                              // syscall
  /* 260 */ 0x85, 0xc0,                              // test eax, eax
  /* 262 */ 0x0f, 0x88, 0xea, 0xfd, 0xff, 0xff,      // js exit
  /* 268 */ 0x41, 0x89, 0xc7,                        // mov r15d, eax
  /* 26b */ 0x89, 0xc7,                              // mov edi, eax
  /* 26d */ 0xbe, 0x01, 0x00, 0x00, 0x00,            // mov esi, 1
  /* 272 */ 0xba, 0x02, 0x00, 0x00, 0x00,            // mov edx, 2
  /* 277 */ 0x4c, 0x8d, 0x94, 0x24, 0x00, 0x40, 0x00, 0x00, // lea r10, [rsp+16384]
  /* 27f */ 0x41, 0xb8, 0x04, 0x00, 0x00, 0x00,      // mov r8d, 4
  /* 285 */ 0xb8, 0x36, 0x00, 0x00, 0x00,            // mov eax, 54
  /* 28a */ 0x0f, 0x05,                              // syscall
  /* 28c */ 0x85, 0xc0,                              // test eax, eax
  /* 28e */ 0x0f, 0x88, 0xbe, 0xfd, 0xff, 0xff,      // js exit
  /* 294 */ 0x44, 0x89, 0xff,                        // mov edi, r15d
  /* 297 */ 0x48, 0x89, 0xe6,                        // mov rsi, rsp
  /* 29a */ 0xba, 0x10, 0x00, 0x00, 0x00,            // mov edx, 16
  /* 29f */ 0xb8, 0x31, 0x00, 0x00, 0x00,            // mov eax, 49
  /* 2a4 */ 0x0f, 0x05,                              // syscall
  /* 2a6 */ 0x85, 0xc0,                              // test eax, eax
  /* 2a8 */ 0x0f, 0x88, 0xa4, 0xfd, 0xff, 0xff,      // js exit
  /* 2ae */ 0x44, 0x89, 0xff,                        // mov edi, r15d
  /* 2b1 */ 0xbe, 0x80, 0x00, 0x00, 0x00,            // mov esi, 128
  /* 2b6 */ 0xb8, 0x32, 0x00, 0x00, 0x00,            // mov eax, 50
  /* 2bb */ 0x0f, 0x05,                              // syscall
  /* 2bd */ 0x85, 0xc0,                              // test eax, eax
  /* 2bf */ 0x0f, 0x88, 0x8d, 0xfd, 0xff, 0xff,      // js exit
  /* 2c5 */ 0x45, 0x31, 0xf6,                        // xor r14d, r14d
  /* 2c8 */ 0x44, 0x89, 0xff,                        // accept: mov edi, r15d
  /* 2cb */ 0x31, 0xf6,                              // xor esi, esi
  /* 2cd */ 0x31, 0xd2,                              // xor edx, edx
  /* 2cf */ 0xb8, 0x2b, 0x00, 0x00, 0x00,            // mov eax, 43
  /* 2d4 */ 0x0f, 0x05,                              // syscall
  /* 2d6 */ 0x85, 0xc0,                              // test eax, eax
  /* 2d8 */ 0x78, 0xee,                              // js accept
  /* 2da */ 0x41, 0x89, 0xc4,                        // mov r12d, eax
  /* 2dd */ 0xb8, 0x39, 0x00, 0x00, 0x00,            // mov eax, 57
  /* 2e2 */ 0x0f, 0x05,                              // syscall
  /* 2e4 */ 0x85, 0xc0,                              // test eax, eax
  /* 2e6 */ 0x74, 0x11,                              // jz child
  /* 2e8 */ 0x44, 0x89, 0xe7,                        // mov edi, r12d
  /* 2eb */ 0xb8, 0x03, 0x00, 0x00, 0x00,            // mov eax, 3
  /* 2f0 */ 0x0f, 0x05,                              // syscall
  /* 2f2 */ 0xe8, 0x7b, 0x00, 0x00, 0x00,            // call next
  /* 2f7 */ 0xeb, 0xcf,                              // jmp accept
  /* 2f9 */ 0x44, 0x89, 0xff,                        // child: mov edi, r15d
  /* 2fc */ 0xb8, 0x03, 0x00, 0x00, 0x00,            // mov eax, 3
  /* 301 */ 0x0f, 0x05,                              // syscall
  /* 303 */ 0x44, 0x89, 0xe7,                        // mov edi, r12d
  /* 306 */ 0x31, 0xf6,                              // xor esi, esi
  /* 308 */ 0xb8, 0x21, 0x00, 0x00, 0x00,            // mov eax, 33
  /* 30d */ 0x0f, 0x05,                              // syscall
  /* 30f */ 0x44, 0x89, 0xe7,                        // mov edi, r12d
  /* 312 */ 0xbe, 0x01, 0x00, 0x00, 0x00,            // mov esi, 1
  /* 317 */ 0xb8, 0x21, 0x00, 0x00, 0x00,            // mov eax, 33
  /* 31c */ 0x0f, 0x05,                              // syscall
  /* 31e */ 0x44, 0x89, 0xed,                        // mov ebp, r13d
  /* 321 */ 0xbf, 0x02, 0x00, 0x00, 0x00,            // try: mov edi, 2
  /* 326 */ 0xbe, 0x01, 0x00, 0x00, 0x00,            // mov esi, 1
  /* 32b */ 0x31, 0xd2,                              // xor edx, edx
  /* 32d */ 0xb8, 0x29, 0x00, 0x00, 0x00,            // mov eax, 41
  /* 332 */ 0x0f, 0x05,                              // syscall
  /* 334 */ 0x85, 0xc0,                              // test eax, eax
  /* 336 */ 0x0f, 0x88, 0x76, 0xfe, 0xff, 0xff,      // js fail
  /* 33c */ 0x41, 0x89, 0xc4,                        // mov r12d, eax
  /* 33f */ 0x89, 0xc7,                              // mov edi, eax
  /* 341 */ 0x4a, 0x8d, 0x34, 0x33,                  // lea rsi, [rbx+r14]
  /* 345 */ 0xba, 0x10, 0x00, 0x00, 0x00,            // mov edx, 16
  /* 34a */ 0xb8, 0x2a, 0x00, 0x00, 0x00,            // mov eax, 42
  /* 34f */ 0x0f, 0x05,                              // syscall
  /* 351 */ 0x85, 0xc0,                              // test eax, eax
  /* 353 */ 0x0f, 0x84, 0x98, 0xfd, 0xff, 0xff,      // jz fds
  /* 359 */ 0x44, 0x89, 0xe7,                        // mov edi, r12d
  /* 35c */ 0xb8, 0x03, 0x00, 0x00, 0x00,            // mov eax, 3
  /* 361 */ 0x0f, 0x05,                              // syscall
  /* 363 */ 0xe8, 0x0a, 0x00, 0x00, 0x00,            // call next
  /* 368 */ 0x83, 0xed, 0x10,                        // sub ebp, 16
  /* 36b */ 0x75, 0xb4,                              // jnz try
  /* 36d */ 0xe9, 0x40, 0xfe, 0xff, 0xff,            // jmp fail
  /* 372 */ 0x41, 0x83, 0xc6, 0x10,                  // next: add r14d, 16
  /* 376 */ 0x45, 0x39, 0xee,                        // cmp r14d, r13d
  /* 379 */ 0x72, 0x03,                              // jb back
  /* 37b */ 0x45, 0x31, 0xf6,                        // xor r14d, r14d
  /* 37e */ 0xc3,                                    // back: ret
  /* 37f */ 0x31, 0xc9,                              // number: xor ecx, ecx
  /* 381 */ 0x80, 0x3e, 0x00,                        // cmp byte ptr [rsi], 0
  /* 384 */ 0x74, 0x2c,                              // je badargs
  /* 386 */ 0x0f, 0xb6, 0x06,                        // ndigit: movzx eax, byte ptr [rsi]
  /* 389 */ 0x48, 0xff, 0xc6,                        // inc rsi
  /* 38c */ 0x85, 0xc0,                              // test eax, eax
  /* 38e */ 0x74, 0xee,                              // jz back
  /* 390 */ 0x83, 0xe8, 0x30,                        // sub eax, 48
  /* 393 */ 0x83, 0xf8, 0x09,                        // cmp eax, 9
  /* 396 */ 0x77, 0x1a,                              // ja badargs
  /* 398 */ 0x6b, 0xc9, 0x0a,                        // imul ecx, ecx, 10
  /* 39b */ 0x01, 0xc1,                              // add ecx, eax
  /* 39d */ 0xeb, 0xe7,                              // jmp ndigit
  /* 39f */ 0x81, 0xf9, 0xff, 0xff, 0x00, 0x00,      // head: cmp ecx, 65535
  /* 3a5 */ 0x77, 0x0b,                              // ja badargs
  /* 3a7 */ 0x66, 0xc1, 0xc1, 0x08,                  // rol cx, 8
  /* 3ab */ 0xc1, 0xe1, 0x10,                        // shl ecx, 16
  /* 3ae */ 0x83, 0xc9, 0x02,                        // or ecx, 2
  /* 3b1 */ 0xc3,                                    // ret
  /* 3b2 */ 0xbf, 0x02, 0x00, 0x00, 0x00,            // badargs: mov edi, 2
  /* 3b7 */ 0xe9, 0x9a, 0xfc, 0xff, 0xff,            // jmp sysexit

]);

const ARM64 = words(
  /* 000 */ 0xf94003e0,  // start: ldr x0, [sp]
  /* 004 */ 0xf1000c1f,  // cmp x0, #3
  /* 008 */ 0x54000383,  // b.lo pause
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
  /* 038 */ 0x1400000d,  // b exit
  /* 03c */ 0x71018c5f,  // notrename: cmp w2, #'c'
  /* 040 */ 0x540002c0,  // b.eq relay
  /* 044 */ 0x7101b05f,  // cmp w2, #'l'
  /* 048 */ 0x54000f00,  // b.eq listen
  /* 04c */ 0xf8408661,  // unlink: ldr x1, [x19], #8
  /* 050 */ 0xd2800000,  // mov x0, #0
  /* 054 */ 0xb40000c1,  // cbz x1, exit
  /* 058 */ 0x92800c60,  // mov x0, #-100
  /* 05c */ 0xd2800002,  // mov x2, #0
  /* 060 */ 0xd2800468,  // mov x8, #35
  /* 064 */ 0xd4000001,  // svc #0
  /* 068 */ 0xb4ffff20,  // cbz x0, unlink
  /* 06c */ 0x4b0003e0,  // exit: neg w0, w0
  /* 070 */ 0xd2800ba8,  // sysexit: mov x8, #93
  /* 074 */ 0xd4000001,  // svc #0
  /* 078 */ 0xd2800000,  // pause: mov x0, #0
  /* 07c */ 0xd2800001,  // mov x1, #0
  /* 080 */ 0xd2800002,  // mov x2, #0
  /* 084 */ 0xd2800003,  // mov x3, #0
  /* 088 */ 0xd2800004,  // mov x4, #0
  /* 08c */ 0xd2800928,  // mov x8, #73
  /* 090 */ 0xd4000001,  // svc #0
  /* 094 */ 0x17fffff9,  // b pause
  /* 098 */ 0xf9400261,  // relay: ldr x1, [x19]
  /* 09c */ 0x52800002,  // mov w2, #0
  /* 0a0 */ 0x52800144,  // mov w4, #10
  /* 0a4 */ 0x38401423,  // digit: ldrb w3, [x1], #1
  /* 0a8 */ 0x5100c063,  // sub w3, w3, #48
  /* 0ac */ 0x7100247f,  // cmp w3, #9
  /* 0b0 */ 0x54000068,  // b.hi parsed
  /* 0b4 */ 0x1b040c42,  // madd w2, w2, w4, w3
  /* 0b8 */ 0x17fffffb,  // b digit
  /* 0bc */ 0x5ac00442,  // parsed: rev16 w2, w2
  /* 0c0 */ 0x53103c42,  // lsl w2, w2, #16
  /* 0c4 */ 0x321f0042,  // orr w2, w2, #2
  /* 0c8 */ 0xd14013ff,  // sub sp, sp, #4, lsl #12
  /* 0cc */ 0xd10083ff,  // sub sp, sp, #32
  /* 0d0 */ 0xb90003e2,  // str w2, [sp]
  /* 0d4 */ 0x52800fe3,  // mov w3, #0x7f
  /* 0d8 */ 0x72a02003,  // movk w3, #0x100, lsl #16
  /* 0dc */ 0xb90007e3,  // str w3, [sp, #4]
  /* 0e0 */ 0xf90007ff,  // str xzr, [sp, #8]
  /* 0e4 */ 0xd2800040,  // mov x0, #2
  /* 0e8 */ 0xd2800021,  // mov x1, #1
  /* 0ec */ 0xd2800002,  // mov x2, #0
  /* 0f0 */ 0xd28018c8,  // mov x8, #198
  /* 0f4 */ 0xd4000001,  // svc #0
  /* 0f8 */ 0xf100001f,  // cmp x0, #0
  /* 0fc */ 0x540008eb,  // b.lt fail
  /* 100 */ 0xaa0003f4,  // mov x20, x0
  /* 104 */ 0x910003e1,  // mov x1, sp
  /* 108 */ 0xd2800202,  // mov x2, #16
  /* 10c */ 0xd2801968,  // mov x8, #203
  /* 110 */ 0xd4000001,  // svc #0
  /* 114 */ 0xb5000820,  // cbnz x0, fail
  /* 118 */ 0xd2800040,  // mov x0, #2
  /* 11c */ 0x910003e1,  // mov x1, sp
  /* 120 */ 0xd2800022,  // mov x2, #1
  /* 124 */ 0xd2800808,  // mov x8, #64
  /* 128 */ 0xd4000001,  // svc #0
  /* 12c */ 0x52800023,  // fds: mov w3, #1
  /* 130 */ 0xf9000bff,  // str xzr, [sp, #16]
  /* 134 */ 0xb90017e3,  // str w3, [sp, #20]
  /* 138 */ 0xb9001bf4,  // str w20, [sp, #24]
  /* 13c */ 0xb9001fe3,  // str w3, [sp, #28]
  /* 140 */ 0x910043e0,  // loop: add x0, sp, #16
  /* 144 */ 0xd2800041,  // mov x1, #2
  /* 148 */ 0xd2800002,  // mov x2, #0
  /* 14c */ 0xd2800003,  // mov x3, #0
  /* 150 */ 0xd2800004,  // mov x4, #0
  /* 154 */ 0xd2800928,  // mov x8, #73
  /* 158 */ 0xd4000001,  // svc #0
  /* 15c */ 0xf100001f,  // cmp x0, #0
  /* 160 */ 0x540005cb,  // b.lt fail
  /* 164 */ 0x79403fe3,  // ldrh w3, [sp, #30]
  /* 168 */ 0x340001a3,  // cbz w3, fromstdin
  /* 16c */ 0xaa1403e0,  // mov x0, x20
  /* 170 */ 0x910083e1,  // add x1, sp, #32
  /* 174 */ 0xd2880002,  // mov x2, #16384
  /* 178 */ 0xd28007e8,  // mov x8, #63
  /* 17c */ 0xd4000001,  // svc #0
  /* 180 */ 0xf100001f,  // cmp x0, #0
  /* 184 */ 0x540004ab,  // b.lt fail
  /* 188 */ 0x540004c0,  // b.eq done
  /* 18c */ 0xaa0003e2,  // mov x2, x0
  /* 190 */ 0xd2800020,  // mov x0, #1
  /* 194 */ 0x910083e1,  // add x1, sp, #32
  /* 198 */ 0x94000016,  // bl writeall
  /* 19c */ 0x79402fe3,  // fromstdin: ldrh w3, [sp, #22]
  /* 1a0 */ 0x34fffd03,  // cbz w3, loop
  /* 1a4 */ 0xd2800000,  // mov x0, #0
  /* 1a8 */ 0x910083e1,  // add x1, sp, #32
  /* 1ac */ 0xd2880002,  // mov x2, #16384
  /* 1b0 */ 0xd28007e8,  // mov x8, #63
  /* 1b4 */ 0xd4000001,  // svc #0
  /* 1b8 */ 0xf100001f,  // cmp x0, #0
  /* 1bc */ 0x540000cd,  // b.le eof
  /* 1c0 */ 0xaa0003e2,  // mov x2, x0
  /* 1c4 */ 0xaa1403e0,  // mov x0, x20
  /* 1c8 */ 0x910083e1,  // add x1, sp, #32
  /* 1cc */ 0x94000009,  // bl writeall
  /* 1d0 */ 0x17ffffdc,  // b loop
  /* 1d4 */ 0x12800003,  // eof: mov w3, #-1
  /* 1d8 */ 0xb90013e3,  // str w3, [sp, #16]
  /* 1dc */ 0xaa1403e0,  // mov x0, x20
  /* 1e0 */ 0xd2800021,  // mov x1, #1
  /* 1e4 */ 0xd2801a48,  // mov x8, #210
  /* 1e8 */ 0xd4000001,  // svc #0
  /* 1ec */ 0x17ffffd5,  // b loop
  /* 1f0 */ 0xaa0003e5,  // writeall: mov x5, x0
  /* 1f4 */ 0xaa0503e0,  // writemore: mov x0, x5
  /* 1f8 */ 0xd2800808,  // mov x8, #64
  /* 1fc */ 0xd4000001,  // svc #0
  /* 200 */ 0xf100001f,  // cmp x0, #0
  /* 204 */ 0x540000ad,  // b.le fail
  /* 208 */ 0x8b000021,  // add x1, x1, x0
  /* 20c */ 0xcb000042,  // sub x2, x2, x0
  /* 210 */ 0xb5ffff22,  // cbnz x2, writemore
  /* 214 */ 0xd65f03c0,  // ret
  /* 218 */ 0xd2800020,  // fail: mov x0, #1
  /* 21c */ 0x17ffff95,  // b sysexit
  /* 220 */ 0xd2800000,  // done: mov x0, #0
  /* 224 */ 0x17ffff93,  // b sysexit
  /* 228 */ 0x36001080,  // listen: tbz x0, #0, badargs
  /* 22c */ 0xf100141f,  // cmp x0, #5
  /* 230 */ 0x54001043,  // b.lo badargs
  /* 234 */ 0xd37df015,  // lsl x21, x0, #3
  /* 238 */ 0xd10062b5,  // sub x21, x21, #24
  /* 23c */ 0x91002276,  // add x22, x19, #8
  /* 240 */ 0xaa1603f7,  // mov x23, x22
  /* 244 */ 0xf94002e1,  // backends: ldr x1, [x23]
  /* 248 */ 0xb4000101,  // cbz x1, ignore
  /* 24c */ 0x94000069,  // bl number
  /* 250 */ 0x5ac00858,  // rev w24, w2
  /* 254 */ 0xf94006e1,  // ldr x1, [x23, #8]
  /* 258 */ 0x94000066,  // bl number
  /* 25c */ 0x94000071,  // bl head
  /* 260 */ 0x288262e2,  // stp w2, w24, [x23], #16
  /* 264 */ 0x17fffff8,  // b backends
  /* 268 */ 0xd14013ff,  // ignore: sub sp, sp, #4, lsl #12
  /* 26c */ 0xd10083ff,  // sub sp, sp, #32
  /* 270 */ 0xd2800020,  // mov x0, #1
  /* 274 */ 0xa9017fe0,  // stp x0, xzr, [sp, #16]
  /* 278 */ 0xa9027fff,  // stp xzr, xzr, [sp, #32]
  /* 27c */ 0xd2800220,  // mov x0, #17
  /* 280 */ 0x910043e1,  // add x1, sp, #16
  /* 284 */ 0xd2800002,  // mov x2, #0
  /* 288 */ 0xd2800103,  // mov x3, #8
  /* 28c */ 0xd28010c8,  // mov x8, #134
  /* 290 */ 0xd4000001,  // svc #0
  /* 294 */ 0xf9400261,  // ldr x1, [x19]
  /* 298 */ 0x94000056,  // bl number
  /* 29c */ 0x94000061,  // bl head
  /* 2a0 */ 0xf90003e2,  // str x2, [sp]
  /* 2a4 */ 0xd2800040,  // mov x0, #2
  /* 2a8 */ 0xd2800021,  // mov x1, #1
  /* 2ac */ 0xd2800002,  // mov x2, #0
  /* 2b0 */ 0xd28018c8,  // mov x8, #198
  /* 2b4 */ 0xd4000001,  // svc #0
  /* 2b8 */ 0xb7ffeda0,  // tbnz x0, #63, exit
  /* 2bc */ 0xaa0003f4,  // mov x20, x0
  /* 2c0 */ 0xd2800021,  // mov x1, #1
  /* 2c4 */ 0xd2800042,  // mov x2, #2
  /* 2c8 */ 0x910043e3,  // add x3, sp, #16
  /* 2cc */ 0xd2800084,  // mov x4, #4
  /* 2d0 */ 0xd2801a08,  // mov x8, #208
  /* 2d4 */ 0xd4000001,  // svc #0
  /* 2d8 */ 0xb5ffeca0,  // cbnz x0, exit
  /* 2dc */ 0xaa1403e0,  // mov x0, x20
  /* 2e0 */ 0x910003e1,  // mov x1, sp
  /* 2e4 */ 0xd2800202,  // mov x2, #16
  /* 2e8 */ 0xd2801908,  // mov x8, #200
  /* 2ec */ 0xd4000001,  // svc #0
  /* 2f0 */ 0xb5ffebe0,  // cbnz x0, exit
  /* 2f4 */ 0xaa1403e0,  // mov x0, x20
  /* 2f8 */ 0xd2801001,  // mov x1, #128
  /* 2fc */ 0xd2801928,  // mov x8, #201
  /* 300 */ 0xd4000001,  // svc #0
  /* 304 */ 0xb5ffeb40,  // cbnz x0, exit
  /* 308 */ 0xd2800018,  // mov x24, #0
  /* 30c */ 0xaa1403e0,  // accept: mov x0, x20
  /* 310 */ 0xd2800001,  // mov x1, #0
  /* 314 */ 0xd2800002,  // mov x2, #0
  /* 318 */ 0xd2800003,  // mov x3, #0
  /* 31c */ 0xd2801e48,  // mov x8, #242
  /* 320 */ 0xd4000001,  // svc #0
  /* 324 */ 0xb7ffff40,  // tbnz x0, #63, accept
  /* 328 */ 0xaa0003f9,  // mov x25, x0
  /* 32c */ 0xd2800220,  // mov x0, #17
  /* 330 */ 0xd2800001,  // mov x1, #0
  /* 334 */ 0xd2800002,  // mov x2, #0
  /* 338 */ 0xd2800003,  // mov x3, #0
  /* 33c */ 0xd2800004,  // mov x4, #0
  /* 340 */ 0xd2801b88,  // mov x8, #220
  /* 344 */ 0xd4000001,  // svc #0
  /* 348 */ 0xb40000c0,  // cbz x0, child
  /* 34c */ 0xaa1903e0,  // mov x0, x25
  /* 350 */ 0xd2800728,  // mov x8, #57
  /* 354 */ 0xd4000001,  // svc #0
  /* 358 */ 0x94000022,  // bl next
  /* 35c */ 0x17ffffec,  // b accept
  /* 360 */ 0xaa1403e0,  // child: mov x0, x20
  /* 364 */ 0xd2800728,  // mov x8, #57
  /* 368 */ 0xd4000001,  // svc #0
  /* 36c */ 0xaa1903e0,  // mov x0, x25
  /* 370 */ 0xd2800001,  // mov x1, #0
  /* 374 */ 0xd2800002,  // mov x2, #0
  /* 378 */ 0xd2800308,  // mov x8, #24
  /* 37c */ 0xd4000001,  // svc #0
  /* 380 */ 0xaa1903e0,  // mov x0, x25
  /* 384 */ 0xd2800021,  // mov x1, #1
  /* 388 */ 0xd2800308,  // mov x8, #24
  /* 38c */ 0xd4000001,  // svc #0
  /* 390 */ 0xaa1503fa,  // mov x26, x21
  /* 394 */ 0xd2800040,  // try: mov x0, #2
  /* 398 */ 0xd2800021,  // mov x1, #1
  /* 39c */ 0xd2800002,  // mov x2, #0
  /* 3a0 */ 0xd28018c8,  // mov x8, #198
  /* 3a4 */ 0xd4000001,  // svc #0
  /* 3a8 */ 0xb7fff380,  // tbnz x0, #63, fail
  /* 3ac */ 0xaa0003f4,  // mov x20, x0
  /* 3b0 */ 0x8b1802c1,  // add x1, x22, x24
  /* 3b4 */ 0xd2800202,  // mov x2, #16
  /* 3b8 */ 0xd2801968,  // mov x8, #203
  /* 3bc */ 0xd4000001,  // svc #0
  /* 3c0 */ 0xb4ffeb60,  // cbz x0, fds
  /* 3c4 */ 0xaa1403e0,  // mov x0, x20
  /* 3c8 */ 0xd2800728,  // mov x8, #57
  /* 3cc */ 0xd4000001,  // svc #0
  /* 3d0 */ 0x94000004,  // bl next
  /* 3d4 */ 0xf100435a,  // subs x26, x26, #16
  /* 3d8 */ 0x54fffde1,  // b.ne try
  /* 3dc */ 0x17ffff8f,  // b fail
  /* 3e0 */ 0x91004318,  // next: add x24, x24, #16
  /* 3e4 */ 0xeb15031f,  // cmp x24, x21
  /* 3e8 */ 0x9a9f3318,  // csel x24, x24, xzr, lo
  /* 3ec */ 0xd65f03c0,  // ret
  /* 3f0 */ 0x52800002,  // number: mov w2, #0
  /* 3f4 */ 0x52800144,  // mov w4, #10
  /* 3f8 */ 0x39400023,  // ldrb w3, [x1]
  /* 3fc */ 0x340001e3,  // cbz w3, badargs
  /* 400 */ 0x38401423,  // ndigit: ldrb w3, [x1], #1
  /* 404 */ 0x340000c3,  // cbz w3, back
  /* 408 */ 0x5100c063,  // sub w3, w3, #48
  /* 40c */ 0x7100247f,  // cmp w3, #9
  /* 410 */ 0x54000148,  // b.hi badargs
  /* 414 */ 0x1b040c42,  // madd w2, w2, w4, w3
  /* 418 */ 0x17fffffa,  // b ndigit
  /* 41c */ 0xd65f03c0,  // back: ret
  /* 420 */ 0x7140405f,  // head: cmp w2, #16, lsl #12
  /* 424 */ 0x540000a2,  // b.hs badargs
  /* 428 */ 0x5ac00442,  // rev16 w2, w2
  /* 42c */ 0x53103c42,  // lsl w2, w2, #16
  /* 430 */ 0x321f0042,  // orr w2, w2, #2
  /* 434 */ 0xd65f03c0,  // ret
  /* 438 */ 0xd2800040,  // badargs: mov x0, #2
  /* 43c */ 0x17ffff0d,  // b sysexit

);

const ARM = words(
  /* 000 */ 0xe59d0000,  // start: ldr r0, [sp]
  /* 004 */ 0xe3500003,  // cmp r0, #3
  /* 008 */ 0x3a000017,  // blo pause
  /* 00c */ 0xe59d1008,  // ldr r1, [sp, #8]
  /* 010 */ 0xe28d400c,  // add r4, sp, #12
  /* 014 */ 0xe5d12000,  // ldrb r2, [r1]
  /* 018 */ 0xe3520072,  // cmp r2, #'r'
  /* 01c */ 0x1a000004,  // bne notrename
  /* 020 */ 0xe5940000,  // ldr r0, [r4]
  /* 024 */ 0xe5941004,  // ldr r1, [r4, #4]
  /* 028 */ 0xe3a07026,  // mov r7, #38
  /* 02c */ 0xef000000,  // svc #0
  /* 030 */ 0xea00000a,  // b exit
  /* 034 */ 0xe3520063,  // notrename: cmp r2, #'c'
  /* 038 */ 0x0a00000e,  // beq relay
  /* 03c */ 0xe352006c,  // cmp r2, #'l'
  /* 040 */ 0x0a000077,  // beq listen
  /* 044 */ 0xe4940004,  // unlink: ldr r0, [r4], #4
  /* 048 */ 0xe3500000,  // cmp r0, #0
  /* 04c */ 0x0a000003,  // beq exit
  /* 050 */ 0xe3a0700a,  // mov r7, #10
  /* 054 */ 0xef000000,  // svc #0
  /* 058 */ 0xe3500000,  // cmp r0, #0
  /* 05c */ 0x0afffff8,  // beq unlink
  /* 060 */ 0xe2600000,  // exit: rsb r0, r0, #0
  /* 064 */ 0xe3a07001,  // sysexit: mov r7, #1
  /* 068 */ 0xef000000,  // svc #0
  /* 06c */ 0xe3a0701d,  // pause: mov r7, #29
  /* 070 */ 0xef000000,  // svc #0
  /* 074 */ 0xeafffffc,  // b pause
  /* 078 */ 0xe5941000,  // relay: ldr r1, [r4]
  /* 07c */ 0xe3a02000,  // mov r2, #0
  /* 080 */ 0xe3a0600a,  // mov r6, #10
  /* 084 */ 0xe4d13001,  // digit: ldrb r3, [r1], #1
  /* 088 */ 0xe2433030,  // sub r3, r3, #48
  /* 08c */ 0xe3530009,  // cmp r3, #9
  /* 090 */ 0x8a000001,  // bhi parsed
  /* 094 */ 0xe0223296,  // mla r2, r6, r2, r3
  /* 098 */ 0xeafffff9,  // b digit
  /* 09c */ 0xe6bf2fb2,  // parsed: rev16 r2, r2
  /* 0a0 */ 0xe1a02802,  // lsl r2, r2, #16
  /* 0a4 */ 0xe3822002,  // orr r2, r2, #2
  /* 0a8 */ 0xe24dd901,  // sub sp, sp, #16384
  /* 0ac */ 0xe24dd020,  // sub sp, sp, #32
  /* 0b0 */ 0xe58d2000,  // str r2, [sp]
  /* 0b4 */ 0xe3a0307f,  // mov r3, #0x7f
  /* 0b8 */ 0xe3833401,  // orr r3, r3, #0x1000000
  /* 0bc */ 0xe58d3004,  // str r3, [sp, #4]
  /* 0c0 */ 0xe3a03000,  // mov r3, #0
  /* 0c4 */ 0xe58d3008,  // str r3, [sp, #8]
  /* 0c8 */ 0xe58d300c,  // str r3, [sp, #12]
  /* 0cc */ 0xe3a00002,  // mov r0, #2
  /* 0d0 */ 0xe3a01001,  // mov r1, #1
  /* 0d4 */ 0xe3a02000,  // mov r2, #0
  /* 0d8 */ 0xe3a07c01,  // mov r7, #256
  /* 0dc */ 0xe2877019,  // add r7, r7, #25
  /* 0e0 */ 0xef000000,  // svc #0
  /* 0e4 */ 0xe3500000,  // cmp r0, #0
  /* 0e8 */ 0xba000049,  // blt fail
  /* 0ec */ 0xe1a05000,  // mov r5, r0
  /* 0f0 */ 0xe1a0100d,  // mov r1, sp
  /* 0f4 */ 0xe3a02010,  // mov r2, #16
  /* 0f8 */ 0xe3a07c01,  // mov r7, #256
  /* 0fc */ 0xe287701b,  // add r7, r7, #27
  /* 100 */ 0xef000000,  // svc #0
  /* 104 */ 0xe3500000,  // cmp r0, #0
  /* 108 */ 0x1a000041,  // bne fail
  /* 10c */ 0xe3a00002,  // mov r0, #2
  /* 110 */ 0xe1a0100d,  // mov r1, sp
  /* 114 */ 0xe3a02001,  // mov r2, #1
  /* 118 */ 0xe3a07004,  // mov r7, #4
  /* 11c */ 0xef000000,  // svc #0
  /* 120 */ 0xe3a03000,  // fds: mov r3, #0
  /* 124 */ 0xe58d3010,  // str r3, [sp, #16]
  /* 128 */ 0xe3a03001,  // mov r3, #1
  /* 12c */ 0xe58d3014,  // str r3, [sp, #20]
  /* 130 */ 0xe58d5018,  // str r5, [sp, #24]
  /* 134 */ 0xe58d301c,  // str r3, [sp, #28]
  /* 138 */ 0xe28d0010,  // loop: add r0, sp, #16
  /* 13c */ 0xe3a01002,  // mov r1, #2
  /* 140 */ 0xe3e02000,  // mvn r2, #0
  /* 144 */ 0xe3a070a8,  // mov r7, #168
  /* 148 */ 0xef000000,  // svc #0
  /* 14c */ 0xe3500000,  // cmp r0, #0
  /* 150 */ 0xba00002f,  // blt fail
  /* 154 */ 0xe1dd31be,  // ldrh r3, [sp, #30]
  /* 158 */ 0xe3530000,  // cmp r3, #0
  /* 15c */ 0x0a00000b,  // beq fromstdin
  /* 160 */ 0xe1a00005,  // mov r0, r5
  /* 164 */ 0xe28d1020,  // add r1, sp, #32
  /* 168 */ 0xe3a02901,  // mov r2, #16384
  /* 16c */ 0xe3a07003,  // mov r7, #3
  /* 170 */ 0xef000000,  // svc #0
  /* 174 */ 0xe3500000,  // cmp r0, #0
  /* 178 */ 0xba000025,  // blt fail
  /* 17c */ 0x0a000026,  // beq done
  /* 180 */ 0xe1a02000,  // mov r2, r0
  /* 184 */ 0xe3a00001,  // mov r0, #1
  /* 188 */ 0xe28d1020,  // add r1, sp, #32
  /* 18c */ 0xeb000016,  // bl writeall
  /* 190 */ 0xe1dd31b6,  // fromstdin: ldrh r3, [sp, #22]
  /* 194 */ 0xe3530000,  // cmp r3, #0
  /* 198 */ 0x0affffe6,  // beq loop
  /* 19c */ 0xe3a00000,  // mov r0, #0
  /* 1a0 */ 0xe28d1020,  // add r1, sp, #32
  /* 1a4 */ 0xe3a02901,  // mov r2, #16384
  /* 1a8 */ 0xe3a07003,  // mov r7, #3
  /* 1ac */ 0xef000000,  // svc #0
  /* 1b0 */ 0xe3500000,  // cmp r0, #0
  /* 1b4 */ 0xda000004,  // ble eof
  /* 1b8 */ 0xe1a02000,  // mov r2, r0
  /* 1bc */ 0xe1a00005,  // mov r0, r5
  /* 1c0 */ 0xe28d1020,  // add r1, sp, #32
  /* 1c4 */ 0xeb000008,  // bl writeall
  /* 1c8 */ 0xeaffffda,  // b loop
  /* 1cc */ 0xe3e03000,  // eof: mvn r3, #0
  /* 1d0 */ 0xe58d3010,  // str r3, [sp, #16]
  /* 1d4 */ 0xe1a00005,  // mov r0, r5
  /* 1d8 */ 0xe3a01001,  // mov r1, #1
  /* 1dc */ 0xe3a07c01,  // mov r7, #256
  /* 1e0 */ 0xe2877025,  // add r7, r7, #37
  /* 1e4 */ 0xef000000,  // svc #0
  /* 1e8 */ 0xeaffffd2,  // b loop
  /* 1ec */ 0xe1a06000,  // writeall: mov r6, r0
  /* 1f0 */ 0xe1a00006,  // writemore: mov r0, r6
  /* 1f4 */ 0xe3a07004,  // mov r7, #4
  /* 1f8 */ 0xef000000,  // svc #0
  /* 1fc */ 0xe3500000,  // cmp r0, #0
  /* 200 */ 0xda000003,  // ble fail
  /* 204 */ 0xe0811000,  // add r1, r1, r0
  /* 208 */ 0xe0522000,  // subs r2, r2, r0
  /* 20c */ 0x1afffff7,  // bne writemore
  /* 210 */ 0xe12fff1e,  // bx lr
  /* 214 */ 0xe3a00001,  // fail: mov r0, #1
  /* 218 */ 0xeaffff91,  // b sysexit
  /* 21c */ 0xe3a00000,  // done: mov r0, #0
  /* 220 */ 0xeaffff8f,  // b sysexit
  /* 224 */ 0xe3100001,  // listen: tst r0, #1
  /* 228 */ 0x0a000091,  // beq badargs
  /* 22c */ 0xe3500005,  // cmp r0, #5
  /* 230 */ 0x3a00008f,  // blo badargs
  /* 234 */ 0xe2408003,  // sub r8, r0, #3
  /* 238 */ 0xe1a08108,  // lsl r8, r8, #2
  /* 23c */ 0xe2849004,  // add r9, r4, #4
  /* 240 */ 0xe1a0a009,  // mov r10, r9
  /* 244 */ 0xe59a1000,  // backends: ldr r1, [r10]
  /* 248 */ 0xe3510000,  // cmp r1, #0
  /* 24c */ 0x0a000006,  // beq ignore
  /* 250 */ 0xeb000074,  // bl number
  /* 254 */ 0xe6bfbf32,  // rev r11, r2
  /* 258 */ 0xe59a1004,  // ldr r1, [r10, #4]
  /* 25c */ 0xeb000071,  // bl number
  /* 260 */ 0xeb00007d,  // bl head
  /* 264 */ 0xe8aa0804,  // stm r10!, {r2, r11}
  /* 268 */ 0xeafffff5,  // b backends
  /* 26c */ 0xe24dd901,  // ignore: sub sp, sp, #16384
  /* 270 */ 0xe24dd020,  // sub sp, sp, #32
  /* 274 */ 0xe3a00001,  // mov r0, #1
  /* 278 */ 0xe3a01000,  // mov r1, #0
  /* 27c */ 0xe3a02000,  // mov r2, #0
  /* 280 */ 0xe3a03000,  // mov r3, #0
  /* 284 */ 0xe28d5010,  // add r5, sp, #16
  /* 288 */ 0xe885000f,  // stm r5, {r0, r1, r2, r3}
  /* 28c */ 0xe58d3020,  // str r3, [sp, #32]
  /* 290 */ 0xe3a00011,  // mov r0, #17
  /* 294 */ 0xe1a01005,  // mov r1, r5
  /* 298 */ 0xe3a03008,  // mov r3, #8
  /* 29c */ 0xe3a070ae,  // mov r7, #174
  /* 2a0 */ 0xef000000,  // svc #0
  /* 2a4 */ 0xe5941000,  // ldr r1, [r4]
  /* 2a8 */ 0xeb00005e,  // bl number
  /* 2ac */ 0xeb00006a,  // bl head
  /* 2b0 */ 0xe58d2000,  // str r2, [sp]
  /* 2b4 */ 0xe3a03000,  // mov r3, #0
  /* 2b8 */ 0xe58d3004,  // str r3, [sp, #4]
  /* 2bc */ 0xe3a00002,  // mov r0, #2
  /* 2c0 */ 0xe3a01001,  // mov r1, #1
  /* 2c4 */ 0xe3a02000,  // mov r2, #0
  /* 2c8 */ 0xe3a07c01,  // mov r7, #256
  /* 2cc */ 0xe2877019,  // add r7, r7, #25
  /* 2d0 */ 0xef000000,  // svc #0
  /* 2d4 */ 0xe3500000,  // cmp r0, #0
  /* 2d8 */ 0xbaffff60,  // blt exit
  /* 2dc */ 0xe1a05000,  // mov r5, r0
  /* 2e0 */ 0xe3a01001,  // mov r1, #1
  /* 2e4 */ 0xe3a02002,  // mov r2, #2
  /* 2e8 */ 0xe28d3010,  // add r3, sp, #16
  /* 2ec */ 0xe3a04004,  // mov r4, #4
  /* 2f0 */ 0xe3a07c01,  // mov r7, #256
  /* 2f4 */ 0xe2877026,  // add r7, r7, #38
  /* 2f8 */ 0xef000000,  // svc #0
  /* 2fc */ 0xe3500000,  // cmp r0, #0
  /* 300 */ 0x1affff56,  // bne exit
  /* 304 */ 0xe1a00005,  // mov r0, r5
  /* 308 */ 0xe1a0100d,  // mov r1, sp
  /* 30c */ 0xe3a02010,  // mov r2, #16
  /* 310 */ 0xe3a07c01,  // mov r7, #256
  /* 314 */ 0xe287701a,  // add r7, r7, #26
  /* 318 */ 0xef000000,  // svc #0
  /* 31c */ 0xe3500000,  // cmp r0, #0
  /* 320 */ 0x1affff4e,  // bne exit
  /* 324 */ 0xe1a00005,  // mov r0, r5
  /* 328 */ 0xe3a01080,  // mov r1, #128
  /* 32c */ 0xe3a07c01,  // mov r7, #256
  /* 330 */ 0xe287701c,  // add r7, r7, #28
  /* 334 */ 0xef000000,  // svc #0
  /* 338 */ 0xe3500000,  // cmp r0, #0
  /* 33c */ 0x1affff47,  // bne exit
  /* 340 */ 0xe3a0a000,  // mov r10, #0
  /* 344 */ 0xe1a00005,  // accept: mov r0, r5
  /* 348 */ 0xe3a01000,  // mov r1, #0
  /* 34c */ 0xe3a02000,  // mov r2, #0
  /* 350 */ 0xe3a07c01,  // mov r7, #256
  /* 354 */ 0xe287701d,  // add r7, r7, #29
  /* 358 */ 0xef000000,  // svc #0
  /* 35c */ 0xe3500000,  // cmp r0, #0
  /* 360 */ 0xbafffff7,  // blt accept
  /* 364 */ 0xe1a0b000,  // mov r11, r0
  /* 368 */ 0xe3a07002,  // mov r7, #2
  /* 36c */ 0xef000000,  // svc #0
  /* 370 */ 0xe3500000,  // cmp r0, #0
  /* 374 */ 0x0a000004,  // beq child
  /* 378 */ 0xe1a0000b,  // mov r0, r11
  /* 37c */ 0xe3a07006,  // mov r7, #6
  /* 380 */ 0xef000000,  // svc #0
  /* 384 */ 0xeb000023,  // bl next
  /* 388 */ 0xeaffffed,  // b accept
  /* 38c */ 0xe1a00005,  // child: mov r0, r5
  /* 390 */ 0xe3a07006,  // mov r7, #6
  /* 394 */ 0xef000000,  // svc #0
  /* 398 */ 0xe1a0000b,  // mov r0, r11
  /* 39c */ 0xe3a01000,  // mov r1, #0
  /* 3a0 */ 0xe3a0703f,  // mov r7, #63
  /* 3a4 */ 0xef000000,  // svc #0
  /* 3a8 */ 0xe1a0000b,  // mov r0, r11
  /* 3ac */ 0xe3a01001,  // mov r1, #1
  /* 3b0 */ 0xe3a0703f,  // mov r7, #63
  /* 3b4 */ 0xef000000,  // svc #0
  /* 3b8 */ 0xe1a0c008,  // mov r12, r8
  /* 3bc */ 0xe3a00002,  // try: mov r0, #2
  /* 3c0 */ 0xe3a01001,  // mov r1, #1
  /* 3c4 */ 0xe3a02000,  // mov r2, #0
  /* 3c8 */ 0xe3a07c01,  // mov r7, #256
  /* 3cc */ 0xe2877019,  // add r7, r7, #25
  /* 3d0 */ 0xef000000,  // svc #0
  /* 3d4 */ 0xe3500000,  // cmp r0, #0
  /* 3d8 */ 0xbaffff8d,  // blt fail
  /* 3dc */ 0xe1a05000,  // mov r5, r0
  /* 3e0 */ 0xe089100a,  // add r1, r9, r10
  /* 3e4 */ 0xe3a02010,  // mov r2, #16
  /* 3e8 */ 0xe3a07c01,  // mov r7, #256
  /* 3ec */ 0xe287701b,  // add r7, r7, #27
  /* 3f0 */ 0xef000000,  // svc #0
  /* 3f4 */ 0xe3500000,  // cmp r0, #0
  /* 3f8 */ 0x0affff48,  // beq fds
  /* 3fc */ 0xe1a00005,  // mov r0, r5
  /* 400 */ 0xe3a07006,  // mov r7, #6
  /* 404 */ 0xef000000,  // svc #0
  /* 408 */ 0xeb000002,  // bl next
  /* 40c */ 0xe25cc008,  // subs r12, r12, #8
  /* 410 */ 0x1affffe9,  // bne try
  /* 414 */ 0xeaffff7e,  // b fail
  /* 418 */ 0xe28aa008,  // next: add r10, r10, #8
  /* 41c */ 0xe15a0008,  // cmp r10, r8
  /* 420 */ 0x23a0a000,  // movhs r10, #0
  /* 424 */ 0xe12fff1e,  // bx lr
  /* 428 */ 0xe3a02000,  // number: mov r2, #0
  /* 42c */ 0xe3a0600a,  // mov r6, #10
  /* 430 */ 0xe5d13000,  // ldrb r3, [r1]
  /* 434 */ 0xe3530000,  // cmp r3, #0
  /* 438 */ 0x0a00000d,  // beq badargs
  /* 43c */ 0xe4d13001,  // ndigit: ldrb r3, [r1], #1
  /* 440 */ 0xe3530000,  // cmp r3, #0
  /* 444 */ 0x012fff1e,  // bxeq lr
  /* 448 */ 0xe2433030,  // sub r3, r3, #48
  /* 44c */ 0xe3530009,  // cmp r3, #9
  /* 450 */ 0x8a000007,  // bhi badargs
  /* 454 */ 0xe0223296,  // mla r2, r6, r2, r3
  /* 458 */ 0xeafffff7,  // b ndigit
  /* 45c */ 0xe3520801,  // head: cmp r2, #65536
  /* 460 */ 0x2a000003,  // bhs badargs
  /* 464 */ 0xe6bf2fb2,  // rev16 r2, r2
  /* 468 */ 0xe1a02802,  // lsl r2, r2, #16
  /* 46c */ 0xe3822002,  // orr r2, r2, #2
  /* 470 */ 0xe12fff1e,  // bx lr
  /* 474 */ 0xe3a00002,  // badargs: mov r0, #2
  /* 478 */ 0xeafffef9,  // b sysexit

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
