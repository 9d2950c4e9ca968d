'use strict';
// Stands in for modules that dockerode loads but never uses over a local socket (ssh2, gRPC
// sessions, BuildKit progress): any property reads fine, any call or `new` throws.
const fail = (name) => () => {
  throw new Error(`k2d bundle: ${name} is not included (stubbed out in scripts/bundle.mjs)`);
};
function stub(name) {
  return new Proxy(function () {}, {
    get(_t, key) {
      if (key === '__esModule') return false;
      if (key === Symbol.toPrimitive || key === 'then') return undefined;
      return stub(`${name}.${String(key)}`);
    },
    apply: fail(name),
    construct: fail(name),
  });
}
module.exports = stub('module');
