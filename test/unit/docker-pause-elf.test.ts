// The sandbox program for every architecture: ELF headers the kernel accepts, and machine code
// that is what the comments say. Every program is checked instruction by instruction: each expected encoding is written out with
// its assembly, branch targets are decoded from the encodings and must land on their labels, and
// the syscall numbers loaded before each trap are the ones of that architecture's table. The
// relay mode then runs against a TCP server on 127.0.0.1: amd64 natively on an x86_64 host, arm64
// and arm under qemu-user when it is installed (an opt-in: CI machines may not have it). Inside a
// real container it runs in test/e2e/relay.test.ts.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pauseArch, pauseCode, pauseElf, type PauseArch } from '../../src/docker/pause-elf.ts';
import { sandboxContext, sandboxTag } from '../../src/docker/sandbox.ts';
import { unpackTar } from '../../src/docker/tar.ts';

interface Insn { label?: string; enc: number[] | number; asm: string; to?: string }

const AMD64: Insn[] = [
  { label: 'start', enc: [0x48, 0x8b, 0x04, 0x24], asm: 'mov rax, [rsp]' },
  { enc: [0x48, 0x83, 0xf8, 0x03], asm: 'cmp rax, 3' },
  { enc: [0x72, 0x4a], asm: 'jb pause', to: 'pause' },
  { enc: [0x48, 0x8b, 0x5c, 0x24, 0x10], asm: 'mov rbx, [rsp+16]' },
  { enc: [0x48, 0x8d, 0x6c, 0x24, 0x18], asm: 'lea rbp, [rsp+24]' },
  { enc: [0x80, 0x3b, 0x72], asm: "cmp byte ptr [rbx], 'r'" },
  { enc: [0x75, 0x11], asm: 'jne notrename', to: 'notrename' },
  { enc: [0x48, 0x8b, 0x7d, 0x00], asm: 'mov rdi, [rbp]' },
  { enc: [0x48, 0x8b, 0x75, 0x08], asm: 'mov rsi, [rbp+8]' },
  { enc: [0xb8, 0x52, 0x00, 0x00, 0x00], asm: 'mov eax, 82' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0xeb, 0x1f], asm: 'jmp exit', to: 'exit' },
  { label: 'notrename', enc: [0x80, 0x3b, 0x63], asm: "cmp byte ptr [rbx], 'c'" },
  { enc: [0x74, 0x2e], asm: 'je relay', to: 'relay' },
  { label: 'unlink', enc: [0x48, 0x8b, 0x7d, 0x00], asm: 'mov rdi, [rbp]' },
  { enc: [0x31, 0xc0], asm: 'xor eax, eax' },
  { enc: [0x48, 0x85, 0xff], asm: 'test rdi, rdi' },
  { enc: [0x74, 0x0f], asm: 'je exit', to: 'exit' },
  { enc: [0xb8, 0x57, 0x00, 0x00, 0x00], asm: 'mov eax, 87' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0x48, 0x83, 0xc5, 0x08], asm: 'add rbp, 8' },
  { enc: [0x85, 0xc0], asm: 'test eax, eax' },
  { enc: [0x74, 0xe6], asm: 'je unlink', to: 'unlink' },
  { label: 'exit', enc: [0xf7, 0xd8], asm: 'neg eax' },
  { enc: [0x89, 0xc7], asm: 'mov edi, eax' },
  { label: 'sysexit', enc: [0xb8, 0x3c, 0x00, 0x00, 0x00], asm: 'mov eax, 60' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { label: 'pause', enc: [0xb8, 0x22, 0x00, 0x00, 0x00], asm: 'mov eax, 34' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0xeb, 0xf7], asm: 'jmp pause', to: 'pause' },
  { label: 'relay', enc: [0x48, 0x8b, 0x75, 0x00], asm: 'mov rsi, [rbp]' },
  { enc: [0x31, 0xc9], asm: 'xor ecx, ecx' },
  { label: 'digit', enc: [0x0f, 0xb6, 0x06], asm: 'movzx eax, byte ptr [rsi]' },
  { enc: [0x83, 0xe8, 0x30], asm: 'sub eax, 48' },
  { enc: [0x83, 0xf8, 0x09], asm: 'cmp eax, 9' },
  { enc: [0x77, 0x0a], asm: 'ja parsed', to: 'parsed' },
  { enc: [0x6b, 0xc9, 0x0a], asm: 'imul ecx, ecx, 10' },
  { enc: [0x01, 0xc1], asm: 'add ecx, eax' },
  { enc: [0x48, 0xff, 0xc6], asm: 'inc rsi' },
  { enc: [0xeb, 0xeb], asm: 'jmp digit', to: 'digit' },
  { label: 'parsed', enc: [0x66, 0xc1, 0xc1, 0x08], asm: 'rol cx, 8' },
  { enc: [0xc1, 0xe1, 0x10], asm: 'shl ecx, 16' },
  { enc: [0x83, 0xc9, 0x02], asm: 'or ecx, 2' },
  { enc: [0x48, 0x81, 0xec, 0x20, 0x40, 0x00, 0x00], asm: 'sub rsp, 16416' },
  { enc: [0x89, 0x0c, 0x24], asm: 'mov [rsp], ecx' },
  { enc: [0xc7, 0x44, 0x24, 0x04, 0x7f, 0x00, 0x00, 0x01], asm: 'mov dword ptr [rsp+4], 0x0100007f' },
  { enc: [0x48, 0xc7, 0x44, 0x24, 0x08, 0x00, 0x00, 0x00, 0x00], asm: 'mov qword ptr [rsp+8], 0' },
  { enc: [0xbf, 0x02, 0x00, 0x00, 0x00], asm: 'mov edi, 2' },
  { enc: [0xbe, 0x01, 0x00, 0x00, 0x00], asm: 'mov esi, 1' },
  { enc: [0x31, 0xd2], asm: 'xor edx, edx' },
  { enc: [0xb8, 0x29, 0x00, 0x00, 0x00], asm: 'mov eax, 41' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0x85, 0xc0], asm: 'test eax, eax' },
  { enc: [0x0f, 0x88, 0xf1, 0x00, 0x00, 0x00], asm: 'js fail', to: 'fail' },
  { enc: [0x41, 0x89, 0xc4], asm: 'mov r12d, eax' },
  { enc: [0x89, 0xc7], asm: 'mov edi, eax' },
  { enc: [0x48, 0x89, 0xe6], asm: 'mov rsi, rsp' },
  { enc: [0xba, 0x10, 0x00, 0x00, 0x00], asm: 'mov edx, 16' },
  { enc: [0xb8, 0x2a, 0x00, 0x00, 0x00], asm: 'mov eax, 42' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0x85, 0xc0], asm: 'test eax, eax' },
  { enc: [0x0f, 0x85, 0xd5, 0x00, 0x00, 0x00], asm: 'jne fail', to: 'fail' },
  { enc: [0xbf, 0x02, 0x00, 0x00, 0x00], asm: 'mov edi, 2' },
  { enc: [0x48, 0x89, 0xe6], asm: 'mov rsi, rsp' },
  { enc: [0xba, 0x01, 0x00, 0x00, 0x00], asm: 'mov edx, 1' },
  { enc: [0xb8, 0x01, 0x00, 0x00, 0x00], asm: 'mov eax, 1' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0x48, 0xc7, 0x44, 0x24, 0x10, 0x00, 0x00, 0x00, 0x00], asm: 'mov qword ptr [rsp+16], 0' },
  { enc: [0xc6, 0x44, 0x24, 0x14, 0x01], asm: 'mov byte ptr [rsp+20], 1' },
  { enc: [0x44, 0x89, 0x64, 0x24, 0x18], asm: 'mov [rsp+24], r12d' },
  { enc: [0xc7, 0x44, 0x24, 0x1c, 0x01, 0x00, 0x00, 0x00], asm: 'mov dword ptr [rsp+28], 1' },
  { label: 'loop', enc: [0x48, 0x8d, 0x7c, 0x24, 0x10], asm: 'lea rdi, [rsp+16]' },
  { enc: [0xbe, 0x02, 0x00, 0x00, 0x00], asm: 'mov esi, 2' },
  { enc: [0xba, 0xff, 0xff, 0xff, 0xff], asm: 'mov edx, -1' },
  { enc: [0xb8, 0x07, 0x00, 0x00, 0x00], asm: 'mov eax, 7' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0x85, 0xc0], asm: 'test eax, eax' },
  { enc: [0x0f, 0x88, 0x88, 0x00, 0x00, 0x00], asm: 'js fail', to: 'fail' },
  { enc: [0x66, 0x83, 0x7c, 0x24, 0x1e, 0x00], asm: 'cmp word ptr [rsp+30], 0' },
  { enc: [0x74, 0x26], asm: 'je fromstdin', to: 'fromstdin' },
  { enc: [0x44, 0x89, 0xe7], asm: 'mov edi, r12d' },
  { enc: [0x48, 0x8d, 0x74, 0x24, 0x20], asm: 'lea rsi, [rsp+32]' },
  { enc: [0xba, 0x00, 0x40, 0x00, 0x00], asm: 'mov edx, 16384' },
  { enc: [0xb8, 0x00, 0x00, 0x00, 0x00], asm: 'mov eax, 0' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0x85, 0xc0], asm: 'test eax, eax' },
  { enc: [0x78, 0x68], asm: 'js fail', to: 'fail' },
  { enc: [0x74, 0x70], asm: 'je done', to: 'done' },
  { enc: [0x89, 0xc2], asm: 'mov edx, eax' },
  { enc: [0xbf, 0x01, 0x00, 0x00, 0x00], asm: 'mov edi, 1' },
  { enc: [0xe8, 0x47, 0x00, 0x00, 0x00], asm: 'call writeall', to: 'writeall' },
  { label: 'fromstdin', enc: [0x66, 0x83, 0x7c, 0x24, 0x16, 0x00], asm: 'cmp word ptr [rsp+22], 0' },
  { enc: [0x74, 0xac], asm: 'je loop', to: 'loop' },
  { enc: [0x31, 0xff], asm: 'xor edi, edi' },
  { enc: [0x48, 0x8d, 0x74, 0x24, 0x20], asm: 'lea rsi, [rsp+32]' },
  { enc: [0xba, 0x00, 0x40, 0x00, 0x00], asm: 'mov edx, 16384' },
  { enc: [0xb8, 0x00, 0x00, 0x00, 0x00], asm: 'mov eax, 0' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0x85, 0xc0], asm: 'test eax, eax' },
  { enc: [0x7e, 0x0c], asm: 'jle eof', to: 'eof' },
  { enc: [0x89, 0xc2], asm: 'mov edx, eax' },
  { enc: [0x44, 0x89, 0xe7], asm: 'mov edi, r12d' },
  { enc: [0xe8, 0x1e, 0x00, 0x00, 0x00], asm: 'call writeall', to: 'writeall' },
  { enc: [0xeb, 0x89], asm: 'jmp loop', to: 'loop' },
  { label: 'eof', enc: [0xc7, 0x44, 0x24, 0x10, 0xff, 0xff, 0xff, 0xff], asm: 'mov dword ptr [rsp+16], -1' },
  { enc: [0x44, 0x89, 0xe7], asm: 'mov edi, r12d' },
  { enc: [0xbe, 0x01, 0x00, 0x00, 0x00], asm: 'mov esi, 1' },
  { enc: [0xb8, 0x30, 0x00, 0x00, 0x00], asm: 'mov eax, 48' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0xe9, 0x6d, 0xff, 0xff, 0xff], asm: 'jmp loop', to: 'loop' },
  { label: 'writeall', enc: [0xb8, 0x01, 0x00, 0x00, 0x00], asm: 'mov eax, 1' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0x85, 0xc0], asm: 'test eax, eax' },
  { enc: [0x7e, 0x08], asm: 'jle fail', to: 'fail' },
  { enc: [0x48, 0x01, 0xc6], asm: 'add rsi, rax' },
  { enc: [0x29, 0xc2], asm: 'sub edx, eax' },
  { enc: [0x75, 0xee], asm: 'jne writeall', to: 'writeall' },
  { enc: [0xc3], asm: 'ret' },
  { label: 'fail', enc: [0xbf, 0x01, 0x00, 0x00, 0x00], asm: 'mov edi, 1' },
  { enc: [0xe9, 0x9a, 0xfe, 0xff, 0xff], asm: 'jmp sysexit', to: 'sysexit' },
  { label: 'done', enc: [0x31, 0xff], asm: 'xor edi, edi' },
  { enc: [0xe9, 0x93, 0xfe, 0xff, 0xff], asm: 'jmp sysexit', to: 'sysexit' },
];

const ARM64: Insn[] = [
  { label: 'start', enc: 0xf94003e0, asm: 'ldr x0, [sp]' },
  { enc: 0xf1000c1f, asm: 'cmp x0, #3' },
  { enc: 0x54000343, asm: 'b.lo pause', to: 'pause' },
  { enc: 0xf9400be1, asm: 'ldr x1, [sp, #16]' },
  { enc: 0x910063f3, asm: 'add x19, sp, #24' },
  { enc: 0x39400022, asm: 'ldrb w2, [x1]' },
  { enc: 0x7101c85f, asm: "cmp w2, #'r'" },
  { enc: 0x54000101, asm: 'b.ne notrename', to: 'notrename' },
  { enc: 0x92800c60, asm: 'mov x0, #-100' },
  { enc: 0xf9400261, asm: 'ldr x1, [x19]' },
  { enc: 0x92800c62, asm: 'mov x2, #-100' },
  { enc: 0xf9400663, asm: 'ldr x3, [x19, #8]' },
  { enc: 0xd28004c8, asm: 'mov x8, #38' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0x1400000b, asm: 'b exit', to: 'exit' },
  { label: 'notrename', enc: 0x71018c5f, asm: "cmp w2, #'c'" },
  { enc: 0x54000280, asm: 'b.eq relay', to: 'relay' },
  { label: 'unlink', enc: 0xf8408661, asm: 'ldr x1, [x19], #8' },
  { enc: 0xd2800000, asm: 'mov x0, #0' },
  { enc: 0xb40000c1, asm: 'cbz x1, exit', to: 'exit' },
  { enc: 0x92800c60, asm: 'mov x0, #-100' },
  { enc: 0xd2800002, asm: 'mov x2, #0' },
  { enc: 0xd2800468, asm: 'mov x8, #35' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0xb4ffff20, asm: 'cbz x0, unlink', to: 'unlink' },
  { label: 'exit', enc: 0x4b0003e0, asm: 'neg w0, w0' },
  { label: 'sysexit', enc: 0xd2800ba8, asm: 'mov x8, #93' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { label: 'pause', enc: 0xd2800000, asm: 'mov x0, #0' },
  { enc: 0xd2800001, asm: 'mov x1, #0' },
  { enc: 0xd2800002, asm: 'mov x2, #0' },
  { enc: 0xd2800003, asm: 'mov x3, #0' },
  { enc: 0xd2800004, asm: 'mov x4, #0' },
  { enc: 0xd2800928, asm: 'mov x8, #73' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0x17fffff9, asm: 'b pause', to: 'pause' },
  { label: 'relay', enc: 0xf9400261, asm: 'ldr x1, [x19]' },
  { enc: 0x52800002, asm: 'mov w2, #0' },
  { enc: 0x52800144, asm: 'mov w4, #10' },
  { label: 'digit', enc: 0x38401423, asm: 'ldrb w3, [x1], #1' },
  { enc: 0x5100c063, asm: 'sub w3, w3, #48' },
  { enc: 0x7100247f, asm: 'cmp w3, #9' },
  { enc: 0x54000068, asm: 'b.hi parsed', to: 'parsed' },
  { enc: 0x1b040c42, asm: 'madd w2, w2, w4, w3' },
  { enc: 0x17fffffb, asm: 'b digit', to: 'digit' },
  { label: 'parsed', enc: 0x5ac00442, asm: 'rev16 w2, w2' },
  { enc: 0x53103c42, asm: 'lsl w2, w2, #16' },
  { enc: 0x321f0042, asm: 'orr w2, w2, #2' },
  { enc: 0xd14013ff, asm: 'sub sp, sp, #4, lsl #12' },
  { enc: 0xd10083ff, asm: 'sub sp, sp, #32' },
  { enc: 0xb90003e2, asm: 'str w2, [sp]' },
  { enc: 0x52800fe3, asm: 'mov w3, #0x7f' },
  { enc: 0x72a02003, asm: 'movk w3, #0x100, lsl #16' },
  { enc: 0xb90007e3, asm: 'str w3, [sp, #4]' },
  { enc: 0xf90007ff, asm: 'str xzr, [sp, #8]' },
  { enc: 0xd2800040, asm: 'mov x0, #2' },
  { enc: 0xd2800021, asm: 'mov x1, #1' },
  { enc: 0xd2800002, asm: 'mov x2, #0' },
  { enc: 0xd28018c8, asm: 'mov x8, #198' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0xf100001f, asm: 'cmp x0, #0' },
  { enc: 0x540008eb, asm: 'b.lt fail', to: 'fail' },
  { enc: 0xaa0003f4, asm: 'mov x20, x0' },
  { enc: 0x910003e1, asm: 'mov x1, sp' },
  { enc: 0xd2800202, asm: 'mov x2, #16' },
  { enc: 0xd2801968, asm: 'mov x8, #203' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0xb5000820, asm: 'cbnz x0, fail', to: 'fail' },
  { enc: 0xd2800040, asm: 'mov x0, #2' },
  { enc: 0x910003e1, asm: 'mov x1, sp' },
  { enc: 0xd2800022, asm: 'mov x2, #1' },
  { enc: 0xd2800808, asm: 'mov x8, #64' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0x52800023, asm: 'mov w3, #1' },
  { enc: 0xf9000bff, asm: 'str xzr, [sp, #16]' },
  { enc: 0xb90017e3, asm: 'str w3, [sp, #20]' },
  { enc: 0xb9001bf4, asm: 'str w20, [sp, #24]' },
  { enc: 0xb9001fe3, asm: 'str w3, [sp, #28]' },
  { label: 'loop', enc: 0x910043e0, asm: 'add x0, sp, #16' },
  { enc: 0xd2800041, asm: 'mov x1, #2' },
  { enc: 0xd2800002, asm: 'mov x2, #0' },
  { enc: 0xd2800003, asm: 'mov x3, #0' },
  { enc: 0xd2800004, asm: 'mov x4, #0' },
  { enc: 0xd2800928, asm: 'mov x8, #73' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0xf100001f, asm: 'cmp x0, #0' },
  { enc: 0x540005cb, asm: 'b.lt fail', to: 'fail' },
  { enc: 0x79403fe3, asm: 'ldrh w3, [sp, #30]' },
  { enc: 0x340001a3, asm: 'cbz w3, fromstdin', to: 'fromstdin' },
  { enc: 0xaa1403e0, asm: 'mov x0, x20' },
  { enc: 0x910083e1, asm: 'add x1, sp, #32' },
  { enc: 0xd2880002, asm: 'mov x2, #16384' },
  { enc: 0xd28007e8, asm: 'mov x8, #63' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0xf100001f, asm: 'cmp x0, #0' },
  { enc: 0x540004ab, asm: 'b.lt fail', to: 'fail' },
  { enc: 0x540004c0, asm: 'b.eq done', to: 'done' },
  { enc: 0xaa0003e2, asm: 'mov x2, x0' },
  { enc: 0xd2800020, asm: 'mov x0, #1' },
  { enc: 0x910083e1, asm: 'add x1, sp, #32' },
  { enc: 0x94000016, asm: 'bl writeall', to: 'writeall' },
  { label: 'fromstdin', enc: 0x79402fe3, asm: 'ldrh w3, [sp, #22]' },
  { enc: 0x34fffd03, asm: 'cbz w3, loop', to: 'loop' },
  { enc: 0xd2800000, asm: 'mov x0, #0' },
  { enc: 0x910083e1, asm: 'add x1, sp, #32' },
  { enc: 0xd2880002, asm: 'mov x2, #16384' },
  { enc: 0xd28007e8, asm: 'mov x8, #63' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0xf100001f, asm: 'cmp x0, #0' },
  { enc: 0x540000cd, asm: 'b.le eof', to: 'eof' },
  { enc: 0xaa0003e2, asm: 'mov x2, x0' },
  { enc: 0xaa1403e0, asm: 'mov x0, x20' },
  { enc: 0x910083e1, asm: 'add x1, sp, #32' },
  { enc: 0x94000009, asm: 'bl writeall', to: 'writeall' },
  { enc: 0x17ffffdc, asm: 'b loop', to: 'loop' },
  { label: 'eof', enc: 0x12800003, asm: 'mov w3, #-1' },
  { enc: 0xb90013e3, asm: 'str w3, [sp, #16]' },
  { enc: 0xaa1403e0, asm: 'mov x0, x20' },
  { enc: 0xd2800021, asm: 'mov x1, #1' },
  { enc: 0xd2801a48, asm: 'mov x8, #210' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0x17ffffd5, asm: 'b loop', to: 'loop' },
  { label: 'writeall', enc: 0xaa0003e5, asm: 'mov x5, x0' },
  { label: 'writemore', enc: 0xaa0503e0, asm: 'mov x0, x5' },
  { enc: 0xd2800808, asm: 'mov x8, #64' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0xf100001f, asm: 'cmp x0, #0' },
  { enc: 0x540000ad, asm: 'b.le fail', to: 'fail' },
  { enc: 0x8b000021, asm: 'add x1, x1, x0' },
  { enc: 0xcb000042, asm: 'sub x2, x2, x0' },
  { enc: 0xb5ffff22, asm: 'cbnz x2, writemore', to: 'writemore' },
  { enc: 0xd65f03c0, asm: 'ret' },
  { label: 'fail', enc: 0xd2800020, asm: 'mov x0, #1' },
  { enc: 0x17ffff95, asm: 'b sysexit', to: 'sysexit' },
  { label: 'done', enc: 0xd2800000, asm: 'mov x0, #0' },
  { enc: 0x17ffff93, asm: 'b sysexit', to: 'sysexit' },
];

const ARM: Insn[] = [
  { label: 'start', enc: 0xe59d0000, asm: 'ldr r0, [sp]' },
  { enc: 0xe3500003, asm: 'cmp r0, #3' },
  { enc: 0x3a000015, asm: 'blo pause', to: 'pause' },
  { enc: 0xe59d1008, asm: 'ldr r1, [sp, #8]' },
  { enc: 0xe28d400c, asm: 'add r4, sp, #12' },
  { enc: 0xe5d12000, asm: 'ldrb r2, [r1]' },
  { enc: 0xe3520072, asm: "cmp r2, #'r'" },
  { enc: 0x1a000004, asm: 'bne notrename', to: 'notrename' },
  { enc: 0xe5940000, asm: 'ldr r0, [r4]' },
  { enc: 0xe5941004, asm: 'ldr r1, [r4, #4]' },
  { enc: 0xe3a07026, asm: 'mov r7, #38' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xea000008, asm: 'b exit', to: 'exit' },
  { label: 'notrename', enc: 0xe3520063, asm: "cmp r2, #'c'" },
  { enc: 0x0a00000c, asm: 'beq relay', to: 'relay' },
  { label: 'unlink', enc: 0xe4940004, asm: 'ldr r0, [r4], #4' },
  { enc: 0xe3500000, asm: 'cmp r0, #0' },
  { enc: 0x0a000003, asm: 'beq exit', to: 'exit' },
  { enc: 0xe3a0700a, asm: 'mov r7, #10' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xe3500000, asm: 'cmp r0, #0' },
  { enc: 0x0afffff8, asm: 'beq unlink', to: 'unlink' },
  { label: 'exit', enc: 0xe2600000, asm: 'rsb r0, r0, #0' },
  { label: 'sysexit', enc: 0xe3a07001, asm: 'mov r7, #1' },
  { enc: 0xef000000, asm: 'svc #0' },
  { label: 'pause', enc: 0xe3a0701d, asm: 'mov r7, #29' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xeafffffc, asm: 'b pause', to: 'pause' },
  { label: 'relay', enc: 0xe5941000, asm: 'ldr r1, [r4]' },
  { enc: 0xe3a02000, asm: 'mov r2, #0' },
  { enc: 0xe3a0600a, asm: 'mov r6, #10' },
  { label: 'digit', enc: 0xe4d13001, asm: 'ldrb r3, [r1], #1' },
  { enc: 0xe2433030, asm: 'sub r3, r3, #48' },
  { enc: 0xe3530009, asm: 'cmp r3, #9' },
  { enc: 0x8a000001, asm: 'bhi parsed', to: 'parsed' },
  { enc: 0xe0223296, asm: 'mla r2, r6, r2, r3' },
  { enc: 0xeafffff9, asm: 'b digit', to: 'digit' },
  { label: 'parsed', enc: 0xe6bf2fb2, asm: 'rev16 r2, r2' },
  { enc: 0xe1a02802, asm: 'lsl r2, r2, #16' },
  { enc: 0xe3822002, asm: 'orr r2, r2, #2' },
  { enc: 0xe24dd901, asm: 'sub sp, sp, #16384' },
  { enc: 0xe24dd020, asm: 'sub sp, sp, #32' },
  { enc: 0xe58d2000, asm: 'str r2, [sp]' },
  { enc: 0xe3a0307f, asm: 'mov r3, #0x7f' },
  { enc: 0xe3833401, asm: 'orr r3, r3, #0x1000000' },
  { enc: 0xe58d3004, asm: 'str r3, [sp, #4]' },
  { enc: 0xe3a03000, asm: 'mov r3, #0' },
  { enc: 0xe58d3008, asm: 'str r3, [sp, #8]' },
  { enc: 0xe58d300c, asm: 'str r3, [sp, #12]' },
  { enc: 0xe3a00002, asm: 'mov r0, #2' },
  { enc: 0xe3a01001, asm: 'mov r1, #1' },
  { enc: 0xe3a02000, asm: 'mov r2, #0' },
  { enc: 0xe3a07c01, asm: 'mov r7, #256' },
  { enc: 0xe2877019, asm: 'add r7, r7, #25' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xe3500000, asm: 'cmp r0, #0' },
  { enc: 0xba000049, asm: 'blt fail', to: 'fail' },
  { enc: 0xe1a05000, asm: 'mov r5, r0' },
  { enc: 0xe1a0100d, asm: 'mov r1, sp' },
  { enc: 0xe3a02010, asm: 'mov r2, #16' },
  { enc: 0xe3a07c01, asm: 'mov r7, #256' },
  { enc: 0xe287701b, asm: 'add r7, r7, #27' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xe3500000, asm: 'cmp r0, #0' },
  { enc: 0x1a000041, asm: 'bne fail', to: 'fail' },
  { enc: 0xe3a00002, asm: 'mov r0, #2' },
  { enc: 0xe1a0100d, asm: 'mov r1, sp' },
  { enc: 0xe3a02001, asm: 'mov r2, #1' },
  { enc: 0xe3a07004, asm: 'mov r7, #4' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xe3a03000, asm: 'mov r3, #0' },
  { enc: 0xe58d3010, asm: 'str r3, [sp, #16]' },
  { enc: 0xe3a03001, asm: 'mov r3, #1' },
  { enc: 0xe58d3014, asm: 'str r3, [sp, #20]' },
  { enc: 0xe58d5018, asm: 'str r5, [sp, #24]' },
  { enc: 0xe58d301c, asm: 'str r3, [sp, #28]' },
  { label: 'loop', enc: 0xe28d0010, asm: 'add r0, sp, #16' },
  { enc: 0xe3a01002, asm: 'mov r1, #2' },
  { enc: 0xe3e02000, asm: 'mvn r2, #0' },
  { enc: 0xe3a070a8, asm: 'mov r7, #168' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xe3500000, asm: 'cmp r0, #0' },
  { enc: 0xba00002f, asm: 'blt fail', to: 'fail' },
  { enc: 0xe1dd31be, asm: 'ldrh r3, [sp, #30]' },
  { enc: 0xe3530000, asm: 'cmp r3, #0' },
  { enc: 0x0a00000b, asm: 'beq fromstdin', to: 'fromstdin' },
  { enc: 0xe1a00005, asm: 'mov r0, r5' },
  { enc: 0xe28d1020, asm: 'add r1, sp, #32' },
  { enc: 0xe3a02901, asm: 'mov r2, #16384' },
  { enc: 0xe3a07003, asm: 'mov r7, #3' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xe3500000, asm: 'cmp r0, #0' },
  { enc: 0xba000025, asm: 'blt fail', to: 'fail' },
  { enc: 0x0a000026, asm: 'beq done', to: 'done' },
  { enc: 0xe1a02000, asm: 'mov r2, r0' },
  { enc: 0xe3a00001, asm: 'mov r0, #1' },
  { enc: 0xe28d1020, asm: 'add r1, sp, #32' },
  { enc: 0xeb000016, asm: 'bl writeall', to: 'writeall' },
  { label: 'fromstdin', enc: 0xe1dd31b6, asm: 'ldrh r3, [sp, #22]' },
  { enc: 0xe3530000, asm: 'cmp r3, #0' },
  { enc: 0x0affffe6, asm: 'beq loop', to: 'loop' },
  { enc: 0xe3a00000, asm: 'mov r0, #0' },
  { enc: 0xe28d1020, asm: 'add r1, sp, #32' },
  { enc: 0xe3a02901, asm: 'mov r2, #16384' },
  { enc: 0xe3a07003, asm: 'mov r7, #3' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xe3500000, asm: 'cmp r0, #0' },
  { enc: 0xda000004, asm: 'ble eof', to: 'eof' },
  { enc: 0xe1a02000, asm: 'mov r2, r0' },
  { enc: 0xe1a00005, asm: 'mov r0, r5' },
  { enc: 0xe28d1020, asm: 'add r1, sp, #32' },
  { enc: 0xeb000008, asm: 'bl writeall', to: 'writeall' },
  { enc: 0xeaffffda, asm: 'b loop', to: 'loop' },
  { label: 'eof', enc: 0xe3e03000, asm: 'mvn r3, #0' },
  { enc: 0xe58d3010, asm: 'str r3, [sp, #16]' },
  { enc: 0xe1a00005, asm: 'mov r0, r5' },
  { enc: 0xe3a01001, asm: 'mov r1, #1' },
  { enc: 0xe3a07c01, asm: 'mov r7, #256' },
  { enc: 0xe2877025, asm: 'add r7, r7, #37' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xeaffffd2, asm: 'b loop', to: 'loop' },
  { label: 'writeall', enc: 0xe1a06000, asm: 'mov r6, r0' },
  { label: 'writemore', enc: 0xe1a00006, asm: 'mov r0, r6' },
  { enc: 0xe3a07004, asm: 'mov r7, #4' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xe3500000, asm: 'cmp r0, #0' },
  { enc: 0xda000003, asm: 'ble fail', to: 'fail' },
  { enc: 0xe0811000, asm: 'add r1, r1, r0' },
  { enc: 0xe0522000, asm: 'subs r2, r2, r0' },
  { enc: 0x1afffff7, asm: 'bne writemore', to: 'writemore' },
  { enc: 0xe12fff1e, asm: 'bx lr' },
  { label: 'fail', enc: 0xe3a00001, asm: 'mov r0, #1' },
  { enc: 0xeaffff91, asm: 'b sysexit', to: 'sysexit' },
  { label: 'done', enc: 0xe3a00000, asm: 'mov r0, #0' },
  { enc: 0xeaffff8f, asm: 'b sysexit', to: 'sysexit' },
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
    const b = i.enc as number[];
    const rel32 = (at: number) => Buffer.from(b.slice(at, at + 4)).readInt32LE();
    if ((b[0] >= 0x70 && b[0] <= 0x7f) || b[0] === 0xeb) return off + 2 + sext(b[1], 8); // Jcc/JMP rel8
    if (b[0] === 0x0f && (b[1] & 0xf0) === 0x80) return off + 6 + rel32(2); // Jcc rel32
    if (b[0] === 0xe8 || b[0] === 0xe9) return off + 5 + rel32(1); // CALL/JMP rel32
    throw new Error(`${i.asm}: not a relative jump`);
  }
  const w = i.enc as number;
  if (arch === 'arm') {
    assert.equal((w >>> 25) & 0b111, 0b101, `${i.asm}: not a B/BL`);
    return off + 8 + sext(w & 0xffffff, 24) * 4;
  }
  if ((w >>> 26) === 0b000101 || (w >>> 26) === 0b100101) return off + sext(w & 0x3ffffff, 26) * 4; // B, BL
  if ((w >>> 24) === 0x54 || ((w >>> 24) & 0x7e) === 0x34) return off + sext((w >>> 5) & 0x7ffff, 19) * 4; // B.cond, CBZ/CBNZ
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
      const imm = ((w & 0xff) >>> ((w >>> 7) & 0x1e)) | ((w & 0xff) << (32 - ((w >>> 7) & 0x1e)));
      if ((w & 0xfffff000) >>> 0 === 0xe3a07000) nr = imm >>> 0; // mov r7, #rotated imm8
      if ((w & 0xfffff000) >>> 0 === 0xe2877000) nr += imm >>> 0; // add r7, r7, #rotated imm8
      if (w >>> 0 === 0xef000000) out.push(nr);
    }
  }
  return out;
}

const cases: Array<{ arch: PauseArch; prog: Insn[]; machine: number; elf64: boolean; flags: number; base: number; sys: number[] }> = [
  // rename, unlink, exit, pause; relay: socket, connect, write, poll, read, read, shutdown, write
  { arch: 'amd64', prog: AMD64, machine: 62, elf64: true, flags: 0, base: 0x400000, sys: [82, 87, 60, 34, 41, 42, 1, 7, 0, 0, 48, 1] },
  // renameat, unlinkat, exit, ppoll; relay: socket, connect, write, ppoll, read, read, shutdown, write
  { arch: 'arm64', prog: ARM64, machine: 183, elf64: true, flags: 0, base: 0x400000, sys: [38, 35, 93, 73, 198, 203, 64, 73, 63, 63, 210, 64] },
  // rename, unlink, exit, pause (EABI); relay: socket, connect, write, poll, read, read, shutdown, write
  { arch: 'arm', prog: ARM, machine: 40, elf64: false, flags: 0x05000200, base: 0x10000, sys: [38, 10, 1, 29, 281, 283, 4, 168, 3, 3, 293, 4] },
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
    assert.ok(elf.length < 1024, `${elf.length} bytes`);
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

/** Runs `prog c port` (with stdin) and `prog c closedPort`; output, stderr and exit codes. */
async function relayRun(argv: string[], input: Buffer): Promise<{ out: Buffer; err: Buffer; code: number | null; refused: number | null; rename: number | null }> {
  // An echo server that half-closes after the client did, as a relayed peer would.
  const srv = createServer((s) => s.pipe(s));
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const port = (srv.address() as AddressInfo).port;
  const closed = createServer();
  await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise((ok) => closed.close(ok));
  try {
    const p = spawn(argv[0], [...argv.slice(1), 'c', String(port)]);
    const out: Buffer[] = [], err: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => err.push(b));
    p.stdin.end(input);
    const code = await new Promise<number | null>((ok) => p.on('close', ok));
    const refused = spawnSync(argv[0], [...argv.slice(1), 'c', String(closedPort)], { timeout: 10_000 }).status;
    const rename = spawnSync(argv[0], [...argv.slice(1), 'r', '/nonexistent/a', '/nonexistent/b'], { timeout: 10_000 }).status;
    return { out: Buffer.concat(out), err: Buffer.concat(err), code, refused, rename };
  } finally {
    srv.close();
  }
}

const runners: Array<{ arch: PauseArch; runner: string[]; why?: string }> = [
  { arch: 'amd64', runner: [], why: process.arch === 'x64' && process.platform === 'linux' ? undefined : `host is ${process.platform}/${process.arch}, not linux/x64` },
  { arch: 'arm64', runner: ['qemu-aarch64'] },
  { arch: 'arm', runner: ['qemu-arm'] },
];
for (const r of runners) {
  const why = r.why ?? (r.runner.length && spawnSync(r.runner[0], ['--version']).error ? `${r.runner[0]} is not installed (apt-get install qemu-user)` : undefined);
  test(`${r.arch}: /pause c relays both ways to 127.0.0.1, half-closes, and exits 1 on a refused connect`, { skip: why }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'k2d-pause-'));
    try {
      const bin = join(dir, 'pause');
      writeFileSync(bin, pauseElf(r.arch), { mode: 0o755 });
      // Larger than the 16 KiB buffer and the pipe, so partial reads and writes happen.
      const input = Buffer.alloc(300_000);
      for (let i = 0; i < input.length; i++) input[i] = (i * 7 + (i >> 9)) & 0xff;
      const res = await relayRun([...r.runner, bin], input);
      assert.equal(res.code, 0);
      assert.equal(res.out.length, input.length);
      assert.ok(res.out.equals(input), 'echoed bytes differ');
      assert.equal(res.err.length, 1, 'one byte on stderr: connected');
      assert.equal(res.refused, 1);
      assert.equal(res.rename, 2, 'rename mode still answers ENOENT');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
