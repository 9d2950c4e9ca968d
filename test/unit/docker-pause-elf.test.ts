// The sandbox program for every architecture: ELF headers the kernel accepts, and machine code
// that is what the comments say. Every program is checked instruction by instruction: each expected encoding is written out with
// its assembly, branch targets are decoded from the encodings and must land on their labels, and
// the syscall numbers loaded before each trap are the ones of that architecture's table. The
// relay (c) and balancer (l) modes then run against TCP servers on 127.0.0.1: amd64 natively on an
// x86_64 host, arm64 and arm under qemu-user when it is installed (an opt-in: CI machines may not
// have it). Inside a real container the relay runs in test/e2e/relay.test.ts.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pauseArch, pauseCode, pauseElf, type PauseArch } from '../../src/docker/pause-elf.ts';
import { listenArgs, sandboxContext, sandboxTag } from '../../src/docker/sandbox.ts';
import { unpackTar } from '../../src/docker/tar.ts';

interface Insn { label?: string; enc: number[] | number; asm: string; to?: string }

const AMD64: Insn[] = [
  { label: 'start', enc: [0x48, 0x8b, 0x04, 0x24], asm: 'mov rax, [rsp]' },
  { enc: [0x48, 0x83, 0xf8, 0x03], asm: 'cmp rax, 3' },
  { enc: [0x72, 0x53], asm: 'jb pause', to: 'pause' },
  { enc: [0x48, 0x8b, 0x5c, 0x24, 0x10], asm: 'mov rbx, [rsp+16]' },
  { enc: [0x48, 0x8d, 0x6c, 0x24, 0x18], asm: 'lea rbp, [rsp+24]' },
  { enc: [0x80, 0x3b, 0x72], asm: "cmp byte ptr [rbx], 'r'" },
  { enc: [0x75, 0x11], asm: 'jne notrename', to: 'notrename' },
  { enc: [0x48, 0x8b, 0x7d, 0x00], asm: 'mov rdi, [rbp]' },
  { enc: [0x48, 0x8b, 0x75, 0x08], asm: 'mov rsi, [rbp+8]' },
  { enc: [0xb8, 0x52, 0x00, 0x00, 0x00], asm: 'mov eax, 82' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0xeb, 0x28], asm: 'jmp exit', to: 'exit' },
  { label: 'notrename', enc: [0x80, 0x3b, 0x63], asm: "cmp byte ptr [rbx], 'c'" },
  { enc: [0x74, 0x37], asm: 'je relay', to: 'relay' },
  { enc: [0x80, 0x3b, 0x6c], asm: "cmp byte ptr [rbx], 'l'" },
  { enc: [0x0f, 0x84, 0x8b, 0x01, 0x00, 0x00], asm: 'je listen', to: 'listen' },
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
  { label: 'fds', enc: [0x48, 0xc7, 0x44, 0x24, 0x10, 0x00, 0x00, 0x00, 0x00], asm: 'mov qword ptr [rsp+16], 0' },
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
  { label: 'listen', enc: [0xa8, 0x01], asm: 'test al, 1' },
  { enc: [0x0f, 0x84, 0xe7, 0x01, 0x00, 0x00], asm: 'jz badargs', to: 'badargs' },
  { enc: [0x48, 0x83, 0xf8, 0x05], asm: 'cmp rax, 5' },
  { enc: [0x0f, 0x82, 0xdd, 0x01, 0x00, 0x00], asm: 'jb badargs', to: 'badargs' },
  { enc: [0x44, 0x8d, 0x2c, 0xc5, 0xe8, 0xff, 0xff, 0xff], asm: 'lea r13d, [rax*8-24]' },
  { enc: [0x48, 0x8d, 0x5d, 0x08], asm: 'lea rbx, [rbp+8]' },
  { enc: [0x49, 0x89, 0xdc], asm: 'mov r12, rbx' },
  { label: 'backends', enc: [0x49, 0x8b, 0x34, 0x24], asm: 'mov rsi, [r12]' },
  { enc: [0x48, 0x85, 0xf6], asm: 'test rsi, rsi' },
  { enc: [0x74, 0x28], asm: 'jz ignore', to: 'ignore' },
  { enc: [0xe8, 0x8d, 0x01, 0x00, 0x00], asm: 'call number', to: 'number' },
  { enc: [0x0f, 0xc9], asm: 'bswap ecx' },
  { enc: [0x41, 0x89, 0xce], asm: 'mov r14d, ecx' },
  { enc: [0x49, 0x8b, 0x74, 0x24, 0x08], asm: 'mov rsi, [r12+8]' },
  { enc: [0xe8, 0x7e, 0x01, 0x00, 0x00], asm: 'call number', to: 'number' },
  { enc: [0xe8, 0x99, 0x01, 0x00, 0x00], asm: 'call head', to: 'head' },
  { enc: [0x41, 0x89, 0x0c, 0x24], asm: 'mov [r12], ecx' },
  { enc: [0x45, 0x89, 0x74, 0x24, 0x04], asm: 'mov [r12+4], r14d' },
  { enc: [0x49, 0x83, 0xc4, 0x10], asm: 'add r12, 16' },
  { enc: [0xeb, 0xcf], asm: 'jmp backends', to: 'backends' },
  { label: 'ignore', enc: [0x6a, 0x00], asm: 'push 0' },
  { enc: [0x6a, 0x00], asm: 'push 0' },
  { enc: [0x6a, 0x00], asm: 'push 0' },
  { enc: [0x6a, 0x01], asm: 'push 1' },
  { enc: [0xbf, 0x11, 0x00, 0x00, 0x00], asm: 'mov edi, 17' },
  { enc: [0x48, 0x89, 0xe6], asm: 'mov rsi, rsp' },
  { enc: [0x31, 0xd2], asm: 'xor edx, edx' },
  { enc: [0x41, 0xba, 0x08, 0x00, 0x00, 0x00], asm: 'mov r10d, 8' },
  { enc: [0xb8, 0x0d, 0x00, 0x00, 0x00], asm: 'mov eax, 13' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0x48, 0x81, 0xec, 0x00, 0x40, 0x00, 0x00], asm: 'sub rsp, 16384' },
  { enc: [0x48, 0x8b, 0x75, 0x00], asm: 'mov rsi, [rbp]' },
  { enc: [0xe8, 0x3b, 0x01, 0x00, 0x00], asm: 'call number', to: 'number' },
  { enc: [0xe8, 0x56, 0x01, 0x00, 0x00], asm: 'call head', to: 'head' },
  { enc: [0x48, 0x89, 0x0c, 0x24], asm: 'mov [rsp], rcx' },
  { enc: [0xbf, 0x02, 0x00, 0x00, 0x00], asm: 'mov edi, 2' },
  { enc: [0xbe, 0x01, 0x00, 0x00, 0x00], asm: 'mov esi, 1' },
  { enc: [0x31, 0xd2], asm: 'xor edx, edx' },
  { enc: [0xb8, 0x29, 0x00, 0x00, 0x00], asm: 'mov eax, 41' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0x85, 0xc0], asm: 'test eax, eax' },
  { enc: [0x0f, 0x88, 0xea, 0xfd, 0xff, 0xff], asm: 'js exit', to: 'exit' },
  { enc: [0x41, 0x89, 0xc7], asm: 'mov r15d, eax' },
  { enc: [0x89, 0xc7], asm: 'mov edi, eax' },
  { enc: [0xbe, 0x01, 0x00, 0x00, 0x00], asm: 'mov esi, 1' },
  { enc: [0xba, 0x02, 0x00, 0x00, 0x00], asm: 'mov edx, 2' },
  { enc: [0x4c, 0x8d, 0x94, 0x24, 0x00, 0x40, 0x00, 0x00], asm: 'lea r10, [rsp+16384]' },
  { enc: [0x41, 0xb8, 0x04, 0x00, 0x00, 0x00], asm: 'mov r8d, 4' },
  { enc: [0xb8, 0x36, 0x00, 0x00, 0x00], asm: 'mov eax, 54' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0x85, 0xc0], asm: 'test eax, eax' },
  { enc: [0x0f, 0x88, 0xbe, 0xfd, 0xff, 0xff], asm: 'js exit', to: 'exit' },
  { enc: [0x44, 0x89, 0xff], asm: 'mov edi, r15d' },
  { enc: [0x48, 0x89, 0xe6], asm: 'mov rsi, rsp' },
  { enc: [0xba, 0x10, 0x00, 0x00, 0x00], asm: 'mov edx, 16' },
  { enc: [0xb8, 0x31, 0x00, 0x00, 0x00], asm: 'mov eax, 49' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0x85, 0xc0], asm: 'test eax, eax' },
  { enc: [0x0f, 0x88, 0xa4, 0xfd, 0xff, 0xff], asm: 'js exit', to: 'exit' },
  { enc: [0x44, 0x89, 0xff], asm: 'mov edi, r15d' },
  { enc: [0xbe, 0x80, 0x00, 0x00, 0x00], asm: 'mov esi, 128' },
  { enc: [0xb8, 0x32, 0x00, 0x00, 0x00], asm: 'mov eax, 50' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0x85, 0xc0], asm: 'test eax, eax' },
  { enc: [0x0f, 0x88, 0x8d, 0xfd, 0xff, 0xff], asm: 'js exit', to: 'exit' },
  { enc: [0x45, 0x31, 0xf6], asm: 'xor r14d, r14d' },
  { label: 'accept', enc: [0x44, 0x89, 0xff], asm: 'mov edi, r15d' },
  { enc: [0x31, 0xf6], asm: 'xor esi, esi' },
  { enc: [0x31, 0xd2], asm: 'xor edx, edx' },
  { enc: [0xb8, 0x2b, 0x00, 0x00, 0x00], asm: 'mov eax, 43' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0x85, 0xc0], asm: 'test eax, eax' },
  { enc: [0x78, 0xee], asm: 'js accept', to: 'accept' },
  { enc: [0x41, 0x89, 0xc4], asm: 'mov r12d, eax' },
  { enc: [0xb8, 0x39, 0x00, 0x00, 0x00], asm: 'mov eax, 57' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0x85, 0xc0], asm: 'test eax, eax' },
  { enc: [0x74, 0x11], asm: 'jz child', to: 'child' },
  { enc: [0x44, 0x89, 0xe7], asm: 'mov edi, r12d' },
  { enc: [0xb8, 0x03, 0x00, 0x00, 0x00], asm: 'mov eax, 3' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0xe8, 0x7b, 0x00, 0x00, 0x00], asm: 'call next', to: 'next' },
  { enc: [0xeb, 0xcf], asm: 'jmp accept', to: 'accept' },
  { label: 'child', enc: [0x44, 0x89, 0xff], asm: 'mov edi, r15d' },
  { enc: [0xb8, 0x03, 0x00, 0x00, 0x00], asm: 'mov eax, 3' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0x44, 0x89, 0xe7], asm: 'mov edi, r12d' },
  { enc: [0x31, 0xf6], asm: 'xor esi, esi' },
  { enc: [0xb8, 0x21, 0x00, 0x00, 0x00], asm: 'mov eax, 33' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0x44, 0x89, 0xe7], asm: 'mov edi, r12d' },
  { enc: [0xbe, 0x01, 0x00, 0x00, 0x00], asm: 'mov esi, 1' },
  { enc: [0xb8, 0x21, 0x00, 0x00, 0x00], asm: 'mov eax, 33' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0x44, 0x89, 0xed], asm: 'mov ebp, r13d' },
  { label: 'try', enc: [0xbf, 0x02, 0x00, 0x00, 0x00], asm: 'mov edi, 2' },
  { enc: [0xbe, 0x01, 0x00, 0x00, 0x00], asm: 'mov esi, 1' },
  { enc: [0x31, 0xd2], asm: 'xor edx, edx' },
  { enc: [0xb8, 0x29, 0x00, 0x00, 0x00], asm: 'mov eax, 41' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0x85, 0xc0], asm: 'test eax, eax' },
  { enc: [0x0f, 0x88, 0x76, 0xfe, 0xff, 0xff], asm: 'js fail', to: 'fail' },
  { enc: [0x41, 0x89, 0xc4], asm: 'mov r12d, eax' },
  { enc: [0x89, 0xc7], asm: 'mov edi, eax' },
  { enc: [0x4a, 0x8d, 0x34, 0x33], asm: 'lea rsi, [rbx+r14]' },
  { enc: [0xba, 0x10, 0x00, 0x00, 0x00], asm: 'mov edx, 16' },
  { enc: [0xb8, 0x2a, 0x00, 0x00, 0x00], asm: 'mov eax, 42' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0x85, 0xc0], asm: 'test eax, eax' },
  { enc: [0x0f, 0x84, 0x98, 0xfd, 0xff, 0xff], asm: 'jz fds', to: 'fds' },
  { enc: [0x44, 0x89, 0xe7], asm: 'mov edi, r12d' },
  { enc: [0xb8, 0x03, 0x00, 0x00, 0x00], asm: 'mov eax, 3' },
  { enc: [0x0f, 0x05], asm: 'syscall' },
  { enc: [0xe8, 0x0a, 0x00, 0x00, 0x00], asm: 'call next', to: 'next' },
  { enc: [0x83, 0xed, 0x10], asm: 'sub ebp, 16' },
  { enc: [0x75, 0xb4], asm: 'jnz try', to: 'try' },
  { enc: [0xe9, 0x40, 0xfe, 0xff, 0xff], asm: 'jmp fail', to: 'fail' },
  { label: 'next', enc: [0x41, 0x83, 0xc6, 0x10], asm: 'add r14d, 16' },
  { enc: [0x45, 0x39, 0xee], asm: 'cmp r14d, r13d' },
  { enc: [0x72, 0x03], asm: 'jb back', to: 'back' },
  { enc: [0x45, 0x31, 0xf6], asm: 'xor r14d, r14d' },
  { label: 'back', enc: [0xc3], asm: 'ret' },
  { label: 'number', enc: [0x31, 0xc9], asm: 'xor ecx, ecx' },
  { enc: [0x80, 0x3e, 0x00], asm: 'cmp byte ptr [rsi], 0' },
  { enc: [0x74, 0x2c], asm: 'je badargs', to: 'badargs' },
  { label: 'ndigit', enc: [0x0f, 0xb6, 0x06], asm: 'movzx eax, byte ptr [rsi]' },
  { enc: [0x48, 0xff, 0xc6], asm: 'inc rsi' },
  { enc: [0x85, 0xc0], asm: 'test eax, eax' },
  { enc: [0x74, 0xee], asm: 'jz back', to: 'back' },
  { enc: [0x83, 0xe8, 0x30], asm: 'sub eax, 48' },
  { enc: [0x83, 0xf8, 0x09], asm: 'cmp eax, 9' },
  { enc: [0x77, 0x1a], asm: 'ja badargs', to: 'badargs' },
  { enc: [0x6b, 0xc9, 0x0a], asm: 'imul ecx, ecx, 10' },
  { enc: [0x01, 0xc1], asm: 'add ecx, eax' },
  { enc: [0xeb, 0xe7], asm: 'jmp ndigit', to: 'ndigit' },
  { label: 'head', enc: [0x81, 0xf9, 0xff, 0xff, 0x00, 0x00], asm: 'cmp ecx, 65535' },
  { enc: [0x77, 0x0b], asm: 'ja badargs', to: 'badargs' },
  { enc: [0x66, 0xc1, 0xc1, 0x08], asm: 'rol cx, 8' },
  { enc: [0xc1, 0xe1, 0x10], asm: 'shl ecx, 16' },
  { enc: [0x83, 0xc9, 0x02], asm: 'or ecx, 2' },
  { enc: [0xc3], asm: 'ret' },
  { label: 'badargs', enc: [0xbf, 0x02, 0x00, 0x00, 0x00], asm: 'mov edi, 2' },
  { enc: [0xe9, 0x9a, 0xfc, 0xff, 0xff], asm: 'jmp sysexit', to: 'sysexit' },

];

const ARM64: Insn[] = [
  { label: 'start', enc: 0xf94003e0, asm: 'ldr x0, [sp]' },
  { enc: 0xf1000c1f, asm: 'cmp x0, #3' },
  { enc: 0x54000383, asm: 'b.lo pause', to: 'pause' },
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
  { enc: 0x1400000d, asm: 'b exit', to: 'exit' },
  { label: 'notrename', enc: 0x71018c5f, asm: "cmp w2, #'c'" },
  { enc: 0x540002c0, asm: 'b.eq relay', to: 'relay' },
  { enc: 0x7101b05f, asm: "cmp w2, #'l'" },
  { enc: 0x54000f00, asm: 'b.eq listen', to: 'listen' },
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
  { label: 'fds', enc: 0x52800023, asm: 'mov w3, #1' },
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
  { label: 'listen', enc: 0x36001080, asm: 'tbz x0, #0, badargs', to: 'badargs' },
  { enc: 0xf100141f, asm: 'cmp x0, #5' },
  { enc: 0x54001043, asm: 'b.lo badargs', to: 'badargs' },
  { enc: 0xd37df015, asm: 'lsl x21, x0, #3' },
  { enc: 0xd10062b5, asm: 'sub x21, x21, #24' },
  { enc: 0x91002276, asm: 'add x22, x19, #8' },
  { enc: 0xaa1603f7, asm: 'mov x23, x22' },
  { label: 'backends', enc: 0xf94002e1, asm: 'ldr x1, [x23]' },
  { enc: 0xb4000101, asm: 'cbz x1, ignore', to: 'ignore' },
  { enc: 0x94000069, asm: 'bl number', to: 'number' },
  { enc: 0x5ac00858, asm: 'rev w24, w2' },
  { enc: 0xf94006e1, asm: 'ldr x1, [x23, #8]' },
  { enc: 0x94000066, asm: 'bl number', to: 'number' },
  { enc: 0x94000071, asm: 'bl head', to: 'head' },
  { enc: 0x288262e2, asm: 'stp w2, w24, [x23], #16' },
  { enc: 0x17fffff8, asm: 'b backends', to: 'backends' },
  { label: 'ignore', enc: 0xd14013ff, asm: 'sub sp, sp, #4, lsl #12' },
  { enc: 0xd10083ff, asm: 'sub sp, sp, #32' },
  { enc: 0xd2800020, asm: 'mov x0, #1' },
  { enc: 0xa9017fe0, asm: 'stp x0, xzr, [sp, #16]' },
  { enc: 0xa9027fff, asm: 'stp xzr, xzr, [sp, #32]' },
  { enc: 0xd2800220, asm: 'mov x0, #17' },
  { enc: 0x910043e1, asm: 'add x1, sp, #16' },
  { enc: 0xd2800002, asm: 'mov x2, #0' },
  { enc: 0xd2800103, asm: 'mov x3, #8' },
  { enc: 0xd28010c8, asm: 'mov x8, #134' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0xf9400261, asm: 'ldr x1, [x19]' },
  { enc: 0x94000056, asm: 'bl number', to: 'number' },
  { enc: 0x94000061, asm: 'bl head', to: 'head' },
  { enc: 0xf90003e2, asm: 'str x2, [sp]' },
  { enc: 0xd2800040, asm: 'mov x0, #2' },
  { enc: 0xd2800021, asm: 'mov x1, #1' },
  { enc: 0xd2800002, asm: 'mov x2, #0' },
  { enc: 0xd28018c8, asm: 'mov x8, #198' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0xb7ffeda0, asm: 'tbnz x0, #63, exit', to: 'exit' },
  { enc: 0xaa0003f4, asm: 'mov x20, x0' },
  { enc: 0xd2800021, asm: 'mov x1, #1' },
  { enc: 0xd2800042, asm: 'mov x2, #2' },
  { enc: 0x910043e3, asm: 'add x3, sp, #16' },
  { enc: 0xd2800084, asm: 'mov x4, #4' },
  { enc: 0xd2801a08, asm: 'mov x8, #208' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0xb5ffeca0, asm: 'cbnz x0, exit', to: 'exit' },
  { enc: 0xaa1403e0, asm: 'mov x0, x20' },
  { enc: 0x910003e1, asm: 'mov x1, sp' },
  { enc: 0xd2800202, asm: 'mov x2, #16' },
  { enc: 0xd2801908, asm: 'mov x8, #200' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0xb5ffebe0, asm: 'cbnz x0, exit', to: 'exit' },
  { enc: 0xaa1403e0, asm: 'mov x0, x20' },
  { enc: 0xd2801001, asm: 'mov x1, #128' },
  { enc: 0xd2801928, asm: 'mov x8, #201' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0xb5ffeb40, asm: 'cbnz x0, exit', to: 'exit' },
  { enc: 0xd2800018, asm: 'mov x24, #0' },
  { label: 'accept', enc: 0xaa1403e0, asm: 'mov x0, x20' },
  { enc: 0xd2800001, asm: 'mov x1, #0' },
  { enc: 0xd2800002, asm: 'mov x2, #0' },
  { enc: 0xd2800003, asm: 'mov x3, #0' },
  { enc: 0xd2801e48, asm: 'mov x8, #242' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0xb7ffff40, asm: 'tbnz x0, #63, accept', to: 'accept' },
  { enc: 0xaa0003f9, asm: 'mov x25, x0' },
  { enc: 0xd2800220, asm: 'mov x0, #17' },
  { enc: 0xd2800001, asm: 'mov x1, #0' },
  { enc: 0xd2800002, asm: 'mov x2, #0' },
  { enc: 0xd2800003, asm: 'mov x3, #0' },
  { enc: 0xd2800004, asm: 'mov x4, #0' },
  { enc: 0xd2801b88, asm: 'mov x8, #220' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0xb40000c0, asm: 'cbz x0, child', to: 'child' },
  { enc: 0xaa1903e0, asm: 'mov x0, x25' },
  { enc: 0xd2800728, asm: 'mov x8, #57' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0x94000022, asm: 'bl next', to: 'next' },
  { enc: 0x17ffffec, asm: 'b accept', to: 'accept' },
  { label: 'child', enc: 0xaa1403e0, asm: 'mov x0, x20' },
  { enc: 0xd2800728, asm: 'mov x8, #57' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0xaa1903e0, asm: 'mov x0, x25' },
  { enc: 0xd2800001, asm: 'mov x1, #0' },
  { enc: 0xd2800002, asm: 'mov x2, #0' },
  { enc: 0xd2800308, asm: 'mov x8, #24' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0xaa1903e0, asm: 'mov x0, x25' },
  { enc: 0xd2800021, asm: 'mov x1, #1' },
  { enc: 0xd2800308, asm: 'mov x8, #24' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0xaa1503fa, asm: 'mov x26, x21' },
  { label: 'try', enc: 0xd2800040, asm: 'mov x0, #2' },
  { enc: 0xd2800021, asm: 'mov x1, #1' },
  { enc: 0xd2800002, asm: 'mov x2, #0' },
  { enc: 0xd28018c8, asm: 'mov x8, #198' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0xb7fff380, asm: 'tbnz x0, #63, fail', to: 'fail' },
  { enc: 0xaa0003f4, asm: 'mov x20, x0' },
  { enc: 0x8b1802c1, asm: 'add x1, x22, x24' },
  { enc: 0xd2800202, asm: 'mov x2, #16' },
  { enc: 0xd2801968, asm: 'mov x8, #203' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0xb4ffeb60, asm: 'cbz x0, fds', to: 'fds' },
  { enc: 0xaa1403e0, asm: 'mov x0, x20' },
  { enc: 0xd2800728, asm: 'mov x8, #57' },
  { enc: 0xd4000001, asm: 'svc #0' },
  { enc: 0x94000004, asm: 'bl next', to: 'next' },
  { enc: 0xf100435a, asm: 'subs x26, x26, #16' },
  { enc: 0x54fffde1, asm: 'b.ne try', to: 'try' },
  { enc: 0x17ffff8f, asm: 'b fail', to: 'fail' },
  { label: 'next', enc: 0x91004318, asm: 'add x24, x24, #16' },
  { enc: 0xeb15031f, asm: 'cmp x24, x21' },
  { enc: 0x9a9f3318, asm: 'csel x24, x24, xzr, lo' },
  { enc: 0xd65f03c0, asm: 'ret' },
  { label: 'number', enc: 0x52800002, asm: 'mov w2, #0' },
  { enc: 0x52800144, asm: 'mov w4, #10' },
  { enc: 0x39400023, asm: 'ldrb w3, [x1]' },
  { enc: 0x340001e3, asm: 'cbz w3, badargs', to: 'badargs' },
  { label: 'ndigit', enc: 0x38401423, asm: 'ldrb w3, [x1], #1' },
  { enc: 0x340000c3, asm: 'cbz w3, back', to: 'back' },
  { enc: 0x5100c063, asm: 'sub w3, w3, #48' },
  { enc: 0x7100247f, asm: 'cmp w3, #9' },
  { enc: 0x54000148, asm: 'b.hi badargs', to: 'badargs' },
  { enc: 0x1b040c42, asm: 'madd w2, w2, w4, w3' },
  { enc: 0x17fffffa, asm: 'b ndigit', to: 'ndigit' },
  { label: 'back', enc: 0xd65f03c0, asm: 'ret' },
  { label: 'head', enc: 0x7140405f, asm: 'cmp w2, #16, lsl #12' },
  { enc: 0x540000a2, asm: 'b.hs badargs', to: 'badargs' },
  { enc: 0x5ac00442, asm: 'rev16 w2, w2' },
  { enc: 0x53103c42, asm: 'lsl w2, w2, #16' },
  { enc: 0x321f0042, asm: 'orr w2, w2, #2' },
  { enc: 0xd65f03c0, asm: 'ret' },
  { label: 'badargs', enc: 0xd2800040, asm: 'mov x0, #2' },
  { enc: 0x17ffff0d, asm: 'b sysexit', to: 'sysexit' },

];

const ARM: Insn[] = [
  { label: 'start', enc: 0xe59d0000, asm: 'ldr r0, [sp]' },
  { enc: 0xe3500003, asm: 'cmp r0, #3' },
  { enc: 0x3a000017, asm: 'blo pause', to: 'pause' },
  { enc: 0xe59d1008, asm: 'ldr r1, [sp, #8]' },
  { enc: 0xe28d400c, asm: 'add r4, sp, #12' },
  { enc: 0xe5d12000, asm: 'ldrb r2, [r1]' },
  { enc: 0xe3520072, asm: "cmp r2, #'r'" },
  { enc: 0x1a000004, asm: 'bne notrename', to: 'notrename' },
  { enc: 0xe5940000, asm: 'ldr r0, [r4]' },
  { enc: 0xe5941004, asm: 'ldr r1, [r4, #4]' },
  { enc: 0xe3a07026, asm: 'mov r7, #38' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xea00000a, asm: 'b exit', to: 'exit' },
  { label: 'notrename', enc: 0xe3520063, asm: "cmp r2, #'c'" },
  { enc: 0x0a00000e, asm: 'beq relay', to: 'relay' },
  { enc: 0xe352006c, asm: "cmp r2, #'l'" },
  { enc: 0x0a000077, asm: 'beq listen', to: 'listen' },
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
  { label: 'fds', enc: 0xe3a03000, asm: 'mov r3, #0' },
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
  { label: 'listen', enc: 0xe3100001, asm: 'tst r0, #1' },
  { enc: 0x0a000091, asm: 'beq badargs', to: 'badargs' },
  { enc: 0xe3500005, asm: 'cmp r0, #5' },
  { enc: 0x3a00008f, asm: 'blo badargs', to: 'badargs' },
  { enc: 0xe2408003, asm: 'sub r8, r0, #3' },
  { enc: 0xe1a08108, asm: 'lsl r8, r8, #2' },
  { enc: 0xe2849004, asm: 'add r9, r4, #4' },
  { enc: 0xe1a0a009, asm: 'mov r10, r9' },
  { label: 'backends', enc: 0xe59a1000, asm: 'ldr r1, [r10]' },
  { enc: 0xe3510000, asm: 'cmp r1, #0' },
  { enc: 0x0a000006, asm: 'beq ignore', to: 'ignore' },
  { enc: 0xeb000074, asm: 'bl number', to: 'number' },
  { enc: 0xe6bfbf32, asm: 'rev r11, r2' },
  { enc: 0xe59a1004, asm: 'ldr r1, [r10, #4]' },
  { enc: 0xeb000071, asm: 'bl number', to: 'number' },
  { enc: 0xeb00007d, asm: 'bl head', to: 'head' },
  { enc: 0xe8aa0804, asm: 'stm r10!, {r2, r11}' },
  { enc: 0xeafffff5, asm: 'b backends', to: 'backends' },
  { label: 'ignore', enc: 0xe24dd901, asm: 'sub sp, sp, #16384' },
  { enc: 0xe24dd020, asm: 'sub sp, sp, #32' },
  { enc: 0xe3a00001, asm: 'mov r0, #1' },
  { enc: 0xe3a01000, asm: 'mov r1, #0' },
  { enc: 0xe3a02000, asm: 'mov r2, #0' },
  { enc: 0xe3a03000, asm: 'mov r3, #0' },
  { enc: 0xe28d5010, asm: 'add r5, sp, #16' },
  { enc: 0xe885000f, asm: 'stm r5, {r0, r1, r2, r3}' },
  { enc: 0xe58d3020, asm: 'str r3, [sp, #32]' },
  { enc: 0xe3a00011, asm: 'mov r0, #17' },
  { enc: 0xe1a01005, asm: 'mov r1, r5' },
  { enc: 0xe3a03008, asm: 'mov r3, #8' },
  { enc: 0xe3a070ae, asm: 'mov r7, #174' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xe5941000, asm: 'ldr r1, [r4]' },
  { enc: 0xeb00005e, asm: 'bl number', to: 'number' },
  { enc: 0xeb00006a, asm: 'bl head', to: 'head' },
  { enc: 0xe58d2000, asm: 'str r2, [sp]' },
  { enc: 0xe3a03000, asm: 'mov r3, #0' },
  { enc: 0xe58d3004, asm: 'str r3, [sp, #4]' },
  { enc: 0xe3a00002, asm: 'mov r0, #2' },
  { enc: 0xe3a01001, asm: 'mov r1, #1' },
  { enc: 0xe3a02000, asm: 'mov r2, #0' },
  { enc: 0xe3a07c01, asm: 'mov r7, #256' },
  { enc: 0xe2877019, asm: 'add r7, r7, #25' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xe3500000, asm: 'cmp r0, #0' },
  { enc: 0xbaffff60, asm: 'blt exit', to: 'exit' },
  { enc: 0xe1a05000, asm: 'mov r5, r0' },
  { enc: 0xe3a01001, asm: 'mov r1, #1' },
  { enc: 0xe3a02002, asm: 'mov r2, #2' },
  { enc: 0xe28d3010, asm: 'add r3, sp, #16' },
  { enc: 0xe3a04004, asm: 'mov r4, #4' },
  { enc: 0xe3a07c01, asm: 'mov r7, #256' },
  { enc: 0xe2877026, asm: 'add r7, r7, #38' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xe3500000, asm: 'cmp r0, #0' },
  { enc: 0x1affff56, asm: 'bne exit', to: 'exit' },
  { enc: 0xe1a00005, asm: 'mov r0, r5' },
  { enc: 0xe1a0100d, asm: 'mov r1, sp' },
  { enc: 0xe3a02010, asm: 'mov r2, #16' },
  { enc: 0xe3a07c01, asm: 'mov r7, #256' },
  { enc: 0xe287701a, asm: 'add r7, r7, #26' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xe3500000, asm: 'cmp r0, #0' },
  { enc: 0x1affff4e, asm: 'bne exit', to: 'exit' },
  { enc: 0xe1a00005, asm: 'mov r0, r5' },
  { enc: 0xe3a01080, asm: 'mov r1, #128' },
  { enc: 0xe3a07c01, asm: 'mov r7, #256' },
  { enc: 0xe287701c, asm: 'add r7, r7, #28' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xe3500000, asm: 'cmp r0, #0' },
  { enc: 0x1affff47, asm: 'bne exit', to: 'exit' },
  { enc: 0xe3a0a000, asm: 'mov r10, #0' },
  { label: 'accept', enc: 0xe1a00005, asm: 'mov r0, r5' },
  { enc: 0xe3a01000, asm: 'mov r1, #0' },
  { enc: 0xe3a02000, asm: 'mov r2, #0' },
  { enc: 0xe3a07c01, asm: 'mov r7, #256' },
  { enc: 0xe287701d, asm: 'add r7, r7, #29' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xe3500000, asm: 'cmp r0, #0' },
  { enc: 0xbafffff7, asm: 'blt accept', to: 'accept' },
  { enc: 0xe1a0b000, asm: 'mov r11, r0' },
  { enc: 0xe3a07002, asm: 'mov r7, #2' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xe3500000, asm: 'cmp r0, #0' },
  { enc: 0x0a000004, asm: 'beq child', to: 'child' },
  { enc: 0xe1a0000b, asm: 'mov r0, r11' },
  { enc: 0xe3a07006, asm: 'mov r7, #6' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xeb000023, asm: 'bl next', to: 'next' },
  { enc: 0xeaffffed, asm: 'b accept', to: 'accept' },
  { label: 'child', enc: 0xe1a00005, asm: 'mov r0, r5' },
  { enc: 0xe3a07006, asm: 'mov r7, #6' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xe1a0000b, asm: 'mov r0, r11' },
  { enc: 0xe3a01000, asm: 'mov r1, #0' },
  { enc: 0xe3a0703f, asm: 'mov r7, #63' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xe1a0000b, asm: 'mov r0, r11' },
  { enc: 0xe3a01001, asm: 'mov r1, #1' },
  { enc: 0xe3a0703f, asm: 'mov r7, #63' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xe1a0c008, asm: 'mov r12, r8' },
  { label: 'try', enc: 0xe3a00002, asm: 'mov r0, #2' },
  { enc: 0xe3a01001, asm: 'mov r1, #1' },
  { enc: 0xe3a02000, asm: 'mov r2, #0' },
  { enc: 0xe3a07c01, asm: 'mov r7, #256' },
  { enc: 0xe2877019, asm: 'add r7, r7, #25' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xe3500000, asm: 'cmp r0, #0' },
  { enc: 0xbaffff8d, asm: 'blt fail', to: 'fail' },
  { enc: 0xe1a05000, asm: 'mov r5, r0' },
  { enc: 0xe089100a, asm: 'add r1, r9, r10' },
  { enc: 0xe3a02010, asm: 'mov r2, #16' },
  { enc: 0xe3a07c01, asm: 'mov r7, #256' },
  { enc: 0xe287701b, asm: 'add r7, r7, #27' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xe3500000, asm: 'cmp r0, #0' },
  { enc: 0x0affff48, asm: 'beq fds', to: 'fds' },
  { enc: 0xe1a00005, asm: 'mov r0, r5' },
  { enc: 0xe3a07006, asm: 'mov r7, #6' },
  { enc: 0xef000000, asm: 'svc #0' },
  { enc: 0xeb000002, asm: 'bl next', to: 'next' },
  { enc: 0xe25cc008, asm: 'subs r12, r12, #8' },
  { enc: 0x1affffe9, asm: 'bne try', to: 'try' },
  { enc: 0xeaffff7e, asm: 'b fail', to: 'fail' },
  { label: 'next', enc: 0xe28aa008, asm: 'add r10, r10, #8' },
  { enc: 0xe15a0008, asm: 'cmp r10, r8' },
  { enc: 0x23a0a000, asm: 'movhs r10, #0' },
  { enc: 0xe12fff1e, asm: 'bx lr' },
  { label: 'number', enc: 0xe3a02000, asm: 'mov r2, #0' },
  { enc: 0xe3a0600a, asm: 'mov r6, #10' },
  { enc: 0xe5d13000, asm: 'ldrb r3, [r1]' },
  { enc: 0xe3530000, asm: 'cmp r3, #0' },
  { enc: 0x0a00000d, asm: 'beq badargs', to: 'badargs' },
  { label: 'ndigit', enc: 0xe4d13001, asm: 'ldrb r3, [r1], #1' },
  { enc: 0xe3530000, asm: 'cmp r3, #0' },
  { enc: 0x012fff1e, asm: 'bxeq lr' },
  { enc: 0xe2433030, asm: 'sub r3, r3, #48' },
  { enc: 0xe3530009, asm: 'cmp r3, #9' },
  { enc: 0x8a000007, asm: 'bhi badargs', to: 'badargs' },
  { enc: 0xe0223296, asm: 'mla r2, r6, r2, r3' },
  { enc: 0xeafffff7, asm: 'b ndigit', to: 'ndigit' },
  { label: 'head', enc: 0xe3520801, asm: 'cmp r2, #65536' },
  { enc: 0x2a000003, asm: 'bhs badargs', to: 'badargs' },
  { enc: 0xe6bf2fb2, asm: 'rev16 r2, r2' },
  { enc: 0xe1a02802, asm: 'lsl r2, r2, #16' },
  { enc: 0xe3822002, asm: 'orr r2, r2, #2' },
  { enc: 0xe12fff1e, asm: 'bx lr' },
  { label: 'badargs', enc: 0xe3a00002, asm: 'mov r0, #2' },
  { enc: 0xeafffef9, asm: 'b sysexit', to: 'sysexit' },

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
  if (((w >>> 24) & 0x7e) === 0x36) return off + sext((w >>> 5) & 0x3fff, 14) * 4; // TBZ/TBNZ
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
  // rename, unlink, exit, pause; relay: socket, connect, write, poll, read, read, shutdown, write;
  // listen: rt_sigaction, socket, setsockopt, bind, listen, accept, fork, close (parent), close
  // (child), dup2, dup2, socket, connect, close (failed connect)
  { arch: 'amd64', prog: AMD64, machine: 62, elf64: true, flags: 0, base: 0x400000, sys: [82, 87, 60, 34, 41, 42, 1, 7, 0, 0, 48, 1, 13, 41, 54, 49, 50, 43, 57, 3, 3, 33, 33, 41, 42, 3] },
  // renameat, unlinkat, exit, ppoll; relay: socket, connect, write, ppoll, read, read, shutdown,
  // write; listen: rt_sigaction, socket, setsockopt, bind, listen, accept4, clone, close, close,
  // dup3, dup3, socket, connect, close
  { arch: 'arm64', prog: ARM64, machine: 183, elf64: true, flags: 0, base: 0x400000, sys: [38, 35, 93, 73, 198, 203, 64, 73, 63, 63, 210, 64, 134, 198, 208, 200, 201, 242, 220, 57, 57, 24, 24, 198, 203, 57] },
  // rename, unlink, exit, pause (EABI); relay: socket, connect, write, poll, read, read, shutdown,
  // write; listen: rt_sigaction, socket, setsockopt, bind, listen, accept, fork, close, close, dup2,
  // dup2, socket, connect, close
  { arch: 'arm', prog: ARM, machine: 40, elf64: false, flags: 0x05000200, base: 0x10000, sys: [38, 10, 1, 29, 281, 283, 4, 168, 3, 3, 293, 4, 174, 281, 294, 282, 284, 285, 2, 6, 6, 63, 63, 281, 283, 6] },
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
    assert.ok(elf.length < 1400, `${elf.length} bytes`);
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

/** A port nobody listens on (connect refused), taken from the kernel and given back. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const port = (s.address() as AddressInfo).port;
  await new Promise((ok) => s.close(ok));
  return port;
}

/** A backend that says its name, then echoes until the client half-closes, then half-closes. */
async function backend(name: string): Promise<{ port: number; close: () => void }> {
  const srv = createServer((s) => { s.write(name); s.pipe(s); });
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  return { port: (srv.address() as AddressInfo).port, close: () => srv.close() };
}

/**
 * One connection: send `data`, half-close, read everything until the peer's EOF. `resetIsEnd`:
 * a peer that closes with our bytes unread resets the connection instead.
 */
function exchange(port: number, data: Buffer, resetIsEnd = false): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const s = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    let connected = false;
    s.on('connect', () => (connected = true));
    s.on('data', (b: Buffer) => got.push(b));
    s.on('end', () => ok(Buffer.concat(got)));
    s.on('error', (e: NodeJS.ErrnoException) => (resetIsEnd && connected && e.code === 'ECONNRESET' ? ok(Buffer.concat(got)) : fail(e)));
    s.end(data);
  });
}

async function waitFor<T>(what: string, f: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

/** Children of `pid` that still exist (zombies included): reaped ones are gone from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'latin1');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
    } catch { /* exited meanwhile */ }
  }
  return out;
}

const ip = (dotted: string) => dotted.split('.').reduce((n, o) => n * 256 + Number(o), 0);

for (const r of runners) {
  const why = r.why ?? (r.runner.length && spawnSync(r.runner[0], ['--version']).error ? `${r.runner[0]} is not installed (apt-get install qemu-user)` : undefined);
  test(`${r.arch}: /pause l balances round-robin, skips a refused backend, reaps its children, and checks its arguments`, { skip: why }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'k2d-pause-'));
    const a = await backend('A'), b = await backend('B');
    const started: ChildProcess[] = [];
    const run = (argv: string[]) => spawnSync(r.runner[0] ?? bin, [...r.runner.slice(1), ...(r.runner.length ? [bin] : []), ...argv], { timeout: 30_000 }).status;
    const start = async (argv: string[]) => {
      const p = spawn(r.runner[0] ?? bin, [...r.runner.slice(1), ...(r.runner.length ? [bin] : []), 'l', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
      started.push(p);
      const err: Buffer[] = [];
      p.stdout.on('data', (x: Buffer) => err.push(x));
      p.stderr.on('data', (x: Buffer) => err.push(x));
      // Listening once a connection gets through (qemu takes a moment to start).
      await waitFor(`pause l ${argv.join(' ')} to listen`, async () => {
        assert.equal(p.exitCode, null, `exited ${p.exitCode}`);
        return (await exchange(Number(argv[0]), Buffer.from('warm-up'))).length ? true : undefined;
      });
      return { p, output: () => Buffer.concat(err) };
    };
    const bin = join(dir, 'pause');
    try {
      writeFileSync(bin, pauseElf(r.arch), { mode: 0o755 });
      const lo = '127.0.0.1';

      // Two live backends: the warm-up took A, so these go B, A, B, A. One of them is larger than
      // the relay's 16 KiB buffer, to see partial reads and writes through the forked child.
      const port1 = await deadPort();
      const lb1 = await start([String(port1), String(ip(lo)), String(a.port), String(ip(lo)), String(b.port)]);
      const big = Buffer.alloc(200_000);
      for (let i = 0; i < big.length; i++) big[i] = (i * 13 + (i >> 8)) & 0xff;
      const answers: string[] = [];
      for (const data of [Buffer.from('one'), big, Buffer.from('three'), Buffer.from('')]) {
        const got = await exchange(port1, data);
        answers.push(got.subarray(0, 1).toString());
        assert.ok(got.subarray(1).equals(data), `echo through the relay (${data.length} bytes)`);
      }
      assert.deepEqual(answers, ['B', 'A', 'B', 'A']);

      // A refused backend is skipped for the next one in order: [A, dead, B] answers (warm-up A),
      // then dead -> B, B, A.
      const port2 = await deadPort();
      const lb2 = await start([String(port2), String(ip(lo)), String(a.port), String(ip(lo)), String(await deadPort()), String(ip(lo)), String(b.port)]);
      const order: string[] = [];
      for (let k = 0; k < 3; k++) order.push((await exchange(port2, Buffer.from('x'))).subarray(0, 1).toString());
      assert.deepEqual(order, ['B', 'B', 'A']);

      // Every backend refused: the child exits and the client sees the connection closed, empty.
      const port3 = await deadPort();
      const lb3 = spawn(r.runner[0] ?? bin, [...r.runner.slice(1), ...(r.runner.length ? [bin] : []), 'l', String(port3), String(ip(lo)), String(await deadPort())], { stdio: 'ignore' });
      started.push(lb3);
      const empty = await waitFor('a connection to the all-dead balancer', async () => {
        assert.equal(lb3.exitCode, null);
        return exchange(port3, Buffer.from('x'), true);
      });
      assert.equal(empty.length, 0);
      assert.equal(lb3.exitCode, null, 'the listener lives on');

      // SIGCHLD is ignored, so the kernel reaps the relays: no zombies pile up under the listener.
      for (const lb of [lb1.p, lb2.p, lb3]) await waitFor(`children of ${lb.pid} reaped`, () => (childrenOf(lb.pid!).length === 0 ? true : undefined));
      // stderr is the container log: the relay's "connected" byte must not show up there.
      assert.equal(lb1.output().length, 0);
      assert.equal(lb2.output().length, 0);

      assert.equal(run(['l', String(a.port), String(ip(lo)), String(b.port)]), 98, 'EADDRINUSE');
      assert.equal(run(['l', String(port1), String(ip(lo)), String(b.port)]), 98, 'EADDRINUSE: the running balancer');
      assert.equal(run(['l', String(await deadPort())]), 2, 'no backend');
      assert.equal(run(['l', String(await deadPort()), String(ip(lo))]), 2, 'address without port');
      assert.equal(run(['l', String(await deadPort()), String(ip(lo)), String(b.port), String(ip(lo))]), 2, 'odd backend list');
      assert.equal(run(['l', '80x', String(ip(lo)), String(b.port)]), 2, 'unparseable listen port');
      assert.equal(run(['l', '', String(ip(lo)), String(b.port)]), 2, 'empty listen port');
      assert.equal(run(['l', '65536', String(ip(lo)), String(b.port)]), 2, 'listen port out of range');
      assert.equal(run(['l', String(await deadPort()), '127.0.0.1', String(b.port)]), 2, 'a dotted address is not a number');
      assert.equal(run(['l', String(await deadPort()), String(ip(lo)), '-1']), 2, 'negative port');
    } finally {
      for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      await Promise.all(started.map((p) => (p.exitCode === null && p.signalCode === null ? new Promise((ok) => p.on('close', ok)) : undefined)));
      a.close();
      b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('listenArgs writes each IPv4 address as one decimal number in host order', () => {
  assert.deepEqual(listenArgs(80, [{ ip: '10.0.0.5', port: 8080 }, { ip: '127.0.0.1', port: 9000 }]), ['l', '80', '167772165', '8080', '2130706433', '9000']);
  assert.deepEqual(listenArgs(443, [{ ip: '255.255.255.255', port: 1 }, { ip: '0.0.0.0', port: 65535 }]), ['l', '443', '4294967295', '1', '0', '65535']);
  assert.deepEqual(listenArgs(80, []), ['l', '80']);
  for (const bad of ['::1', '10.0.0', '10.0.0.256', 'db.default', '1.2.3.4.5', ' 10.0.0.1', '010.0.0.1']) {
    assert.throws(() => listenArgs(80, [{ ip: bad, port: 80 }]), /IPv4/, bad);
  }
  assert.throws(() => listenArgs(0, [{ ip: '10.0.0.1', port: 80 }]), /port/);
  assert.throws(() => listenArgs(80, [{ ip: '10.0.0.1', port: 70000 }]), /port/);
  assert.throws(() => listenArgs(80, [{ ip: '10.0.0.1', port: 1.5 }]), /port/);
});
