// admissionregistration.k8s.io webhook configurations: stored with the apiserver's defaults and
// otherwise inert (k2d calls no webhook), so that charts shipping them install.
import type { Registry } from '../machinery/registry.ts';
import type { Strategy } from '../machinery/strategy.ts';
import type { KObject } from '../machinery/types.ts';

type Obj = Record<string, any>;

/** SetDefaults_ValidatingWebhook / SetDefaults_MutatingWebhook, rules and service ports included. */
function defaultWebhooks(obj: KObject, mutating: boolean): void {
  for (const w of ((obj as Obj).webhooks ?? []) as Obj[]) {
    if (!w || typeof w !== 'object') continue;
    w.failurePolicy ??= 'Fail';
    w.matchPolicy ??= 'Equivalent';
    w.namespaceSelector ??= {};
    w.objectSelector ??= {};
    w.timeoutSeconds ??= 10;
    if (mutating) w.reinvocationPolicy ??= 'Never';
    for (const r of (w.rules ?? []) as Obj[]) if (r && typeof r === 'object') r.scope ??= '*';
    if (w.clientConfig?.service && typeof w.clientConfig.service === 'object') w.clientConfig.service.port ??= 443;
  }
}

function webhookConfigurations(mutating: boolean): Strategy {
  return {
    prepareForCreate: (obj) => defaultWebhooks(obj, mutating),
    prepareForUpdate: (obj) => defaultWebhooks(obj, mutating),
  };
}

export function setupAdmission(registry: Registry): void {
  for (const [key, mutating] of [['validatingwebhookconfigurations.admissionregistration.k8s.io', false], ['mutatingwebhookconfigurations.admissionregistration.k8s.io', true]] as const) {
    if (registry.kinds.has(key)) registry.setStrategy(key, webhookConfigurations(mutating));
  }
}
