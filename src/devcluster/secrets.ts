// Secret behaviour: type defaults to Opaque; stringData is a write-only convenience that
// kube-apiserver folds into data (base64) and never stores.
import { fieldError, invalid } from './errors.js';
import { isObject, type KObject } from './objects.js';
import type { Strategy } from './resources.js';

function fold(obj: KObject): void {
  if (!obj.type) obj.type = 'Opaque';
  if (isObject(obj.stringData)) {
    const data: Record<string, string> = isObject(obj.data) ? { ...(obj.data as Record<string, string>) } : {};
    for (const [k, v] of Object.entries(obj.stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    obj.data = data;
  }
  delete obj.stringData;
}

export function secretStrategy(): Strategy {
  return {
    prepareCreate: fold,
    prepareUpdate(obj, old) {
      fold(obj);
      if (obj.type !== old.type) {
        throw invalid('Secret', '', obj.metadata.name!, [fieldError.invalid('type', obj.type, 'field is immutable')]);
      }
    },
  };
}
