// kubelet's hostPath type checks (pkg/volume/hostpath checkType), run on the engine's host before
// a pod's sandbox starts: the *OrCreate types make what is missing, the others must find a path of
// their type. Only used when the engine runs on this machine (a unix socket).
import { closeSync, mkdirSync, openSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';

const WANT: Record<string, [what: string, is: (s: Stats) => boolean]> = {
  DirectoryOrCreate: ['a directory', (s) => s.isDirectory()],
  Directory: ['a directory', (s) => s.isDirectory()],
  FileOrCreate: ['a file', (s) => s.isFile()],
  File: ['a file', (s) => s.isFile()],
  Socket: ['a socket file', (s) => s.isSocket()],
  CharDevice: ['a character device', (s) => s.isCharacterDevice()],
  BlockDevice: ['a block device', (s) => s.isBlockDevice()],
};

/** Undefined when the path passes (after making it for the *OrCreate types), else kubelet's error. */
export function checkHostPath(path: string, type: string): string | undefined {
  const want = WANT[type];
  if (!want) return undefined;
  const fail = `hostPath type check failed: ${path} is not ${want[0]}`;
  let st: Stats | undefined;
  try { st = statSync(path); } catch { st = undefined; }
  if (!st) {
    try {
      if (type === 'DirectoryOrCreate') { mkdirSync(path, { recursive: true, mode: 0o755 }); return undefined; }
      if (type === 'FileOrCreate') {
        mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
        closeSync(openSync(path, 'a', 0o644));
        return undefined;
      }
    } catch (e) {
      return `${fail}: ${(e as Error).message}`;
    }
    return fail;
  }
  return want[1](st) ? undefined : fail;
}
