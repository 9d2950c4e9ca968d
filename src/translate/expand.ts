// `$(VAR)` expansion exactly as kubelet does it (third_party/forked/golang/expansion): a
// reference to an unknown variable stays as written, `$$` is a literal `$`, and anything else
// after `$` (`$VAR`, `${VAR}`, an unterminated `$(`) passes through untouched.

export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const next = input[cursor + 1];
    if (next === '(') {
      const close = input.indexOf(')', cursor + 2);
      if (close >= 0) {
        const name = input.slice(cursor + 2, close);
        out += lookup(name) ?? `$(${name})`;
        cursor = close;
      } else {
        out += '$(';
        cursor += 1;
      }
    } else if (next === '$') {
      out += '$';
      cursor += 1;
    } else {
      out += '$' + next;
      cursor += 1;
    }
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}
