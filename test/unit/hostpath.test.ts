import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHostPath } from '../../src/runtime/hostpath.ts';

test('hostPath type checks: the *OrCreate types make what is missing, the others need the right kind of path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'k2d-hostpath-unit-'));
  try {
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    assert.equal(checkHostPath(join(dir, 'a', 'b'), 'DirectoryOrCreate'), undefined);
    assert.ok(statSync(join(dir, 'a', 'b')).isDirectory());
    assert.equal(statSync(join(dir, 'a', 'b')).mode & 0o777, 0o755 & ~process.umask());
    assert.equal(checkHostPath(join(dir, 'c', 'new.conf'), 'FileOrCreate'), undefined);
    assert.ok(statSync(join(dir, 'c', 'new.conf')).isFile());
    assert.equal(statSync(join(dir, 'c', 'new.conf')).size, 0);
    assert.equal(checkHostPath(file, 'FileOrCreate'), undefined);
    assert.equal(checkHostPath(file, 'File'), undefined);
    assert.equal(checkHostPath(dir, 'Directory'), undefined);
    assert.equal(checkHostPath(join(dir, 'missing'), 'File'), `hostPath type check failed: ${join(dir, 'missing')} is not a file`);
    assert.equal(checkHostPath(join(dir, 'missing'), 'Directory'), `hostPath type check failed: ${join(dir, 'missing')} is not a directory`);
    assert.equal(checkHostPath(dir, 'File'), `hostPath type check failed: ${dir} is not a file`);
    assert.equal(checkHostPath(file, 'DirectoryOrCreate'), `hostPath type check failed: ${file} is not a directory`);
    assert.equal(checkHostPath(file, 'Socket'), `hostPath type check failed: ${file} is not a socket file`);
    assert.equal(checkHostPath(file, 'CharDevice'), `hostPath type check failed: ${file} is not a character device`);
    assert.equal(checkHostPath('/dev/null', 'CharDevice'), undefined);
    assert.equal(checkHostPath(file, 'BlockDevice'), `hostPath type check failed: ${file} is not a block device`);
    const sock = join(dir, 's.sock');
    const srv = createServer();
    await new Promise<void>((ok) => srv.listen(sock, ok));
    try {
      assert.equal(checkHostPath(sock, 'Socket'), undefined);
    } finally {
      await new Promise((ok) => srv.close(ok));
    }
    // No type (or an unknown one, refused by validation): nothing is checked or made.
    assert.equal(checkHostPath(join(dir, 'untyped'), ''), undefined);
    assert.throws(() => statSync(join(dir, 'untyped')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
