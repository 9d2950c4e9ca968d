// Our tar writer checked by GNU tar (an independent reader), and our reader by GNU tar's output.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { packTar, unpackTar } from '../../src/docker/tar.ts';

const dir = mkdtempSync(join(tmpdir(), 'k2d-tar-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const longName = `${'d'.repeat(60)}/${'f'.repeat(70)}.txt`;

test('GNU tar reads what packTar writes: files, dirs, symlinks, modes, owners, long names', () => {
  const archive = packTar([
    { name: 'top', type: 'dir', mode: 0o750, mtime: 1_700_000_000 },
    { name: 'top/a.txt', type: 'file', mode: 0o640, content: Buffer.from('hello\n'), uid: 0, gid: 2000, mtime: 1_700_000_000 },
    { name: 'top/link', type: 'symlink', mode: 0o777, linkname: 'a.txt' },
    { name: 'top/empty', type: 'file', mode: 0o600 },
    { name: longName, type: 'file', mode: 0o644, content: Buffer.alloc(1000, 0x41) },
    { name: 'x'.repeat(10), type: 'symlink', mode: 0o777, linkname: `..data/${'y'.repeat(120)}` },
  ]);
  assert.equal(archive.length % 512, 0);
  const listing = spawnSync('tar', ['-tvf', '-', '--numeric-owner'], { input: archive, encoding: 'utf8' });
  assert.equal(listing.status, 0, listing.stderr);
  const lines = listing.stdout.trim().split('\n');
  assert.match(lines[0], /^drwxr-x--- 0\/0 .* top\/$/);
  assert.match(lines[1], /^-rw-r----- 0\/2000\s+6 2023-11-1\d .* top\/a\.txt$/);
  assert.match(lines[2], /^lrwxrwxrwx 0\/0 .* top\/link -> a\.txt$/);
  assert.match(lines[3], /^-rw------- 0\/0\s+0 .* top\/empty$/);
  assert.ok(lines[4].endsWith(longName), lines[4]);
  assert.ok(lines[5].endsWith(`${'x'.repeat(10)} -> ..data/${'y'.repeat(120)}`), lines[5]);

  const out = join(dir, 'x');
  mkdirSync(out);
  const x = spawnSync('tar', ['-xf', '-', '-C', out], { input: archive });
  assert.equal(x.status, 0, x.stderr?.toString());
  assert.equal(readFileSync(join(out, 'top/a.txt'), 'utf8'), 'hello\n');
  assert.equal(readlinkSync(join(out, 'top/link')), 'a.txt');
  assert.equal(statSync(join(out, longName)).size, 1000);
  assert.equal(statSync(join(out, 'top/a.txt')).mode & 0o777, 0o640);
});

test('unpackTar reads GNU tar archives (ustar and long names) and its own', () => {
  const src = join(dir, 'src');
  mkdirSync(join(src, 'd'.repeat(60)), { recursive: true });
  writeFileSync(join(src, longName), 'long');
  writeFileSync(join(src, 'small'), 'x');
  symlinkSync('small', join(src, 'ln'));
  for (const format of ['gnu', 'pax', 'ustar']) {
    const r = spawnSync('tar', ['-cf', '-', `--format=${format}`, '-C', src, '.'], { maxBuffer: 1 << 20 });
    // ustar holds the 135-character name only split into its prefix field.
    assert.equal(r.status, 0, r.stderr.toString());
    const entries = unpackTar(r.stdout);
    const byName = new Map(entries.map((e) => [e.name.replace(/^\.\//, ''), e]));
    assert.equal(byName.get(longName)?.content?.toString(), 'long', `${format}: ${[...byName.keys()].join(',')}`);
    assert.equal(byName.get('small')?.type, 'file');
    assert.equal(byName.get('ln')?.type, 'symlink');
    assert.equal(byName.get('ln')?.linkname, 'small');
    assert.equal(byName.get('d'.repeat(60))?.type, 'dir');
  }
  const own = unpackTar(packTar([{ name: longName, type: 'file', mode: 0o600, content: Buffer.from('z'), gid: 7 }]));
  assert.deepEqual(own.map((e) => [e.name, e.mode, e.gid, e.content?.toString()]), [[longName, 0o600, 7, 'z']]);
});
