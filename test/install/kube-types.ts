// An object checked against the Kubernetes API types as client-node's generated models
// describe them (V1Deployment, V1PodSpec, ...): every field must exist in its type, and
// every value must have the field's type, all the way down. A misspelt field
// (`readOnlyRootFileSystem`) or a string where a number belongs fails here, with no
// cluster at hand; a real API server's dry run (cluster.test.ts) checks the rest.
import * as k8s from '@kubernetes/client-node';

type AttributeMap = { baseName: string; type: string }[];
type Model = { getAttributeTypeMap(): AttributeMap };

function model(type: string): Model | undefined {
  const m = (k8s as unknown as Record<string, unknown>)[type] as Partial<Model> | undefined;
  return typeof m?.getAttributeTypeMap === 'function' ? (m as Model) : undefined;
}

export function typeErrors(value: unknown, type: string, path = ''): string[] {
  const at = path || '(root)';
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) return [`${at}: expected a list of ${array[1]}`];
    return value.flatMap((v, i) => typeErrors(v, array[1]!, `${path}[${i}]`));
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at}: expected a map`];
    return Object.entries(value).flatMap(([k, v]) => typeErrors(v, map[1]!, `${path}.${k}`));
  }
  switch (type) {
    case 'string':
    case 'Date':
      return typeof value === 'string' ? [] : [`${at}: expected a string`];
    case 'number':
      return typeof value === 'number' ? [] : [`${at}: expected a number`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: expected a boolean`];
    case 'IntOrString':
      return typeof value === 'string' || typeof value === 'number' ? [] : [`${at}: expected an int or a string`];
    case 'any':
    case 'object':
      return [];
  }
  const m = model(type);
  if (!m) return [`${at}: no model ${type} in client-node`];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at}: expected an object (${type})`];
  const fields = new Map(m.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  return Object.entries(value).flatMap(([k, v]) => {
    const t = fields.get(k);
    return t === undefined ? [`${path}.${k}: no such field in ${type}`] : typeErrors(v, t, `${path}.${k}`);
  });
}

/** The model of a top-level object: `apps/v1` Deployment -> V1Deployment. */
export function modelOf(obj: { apiVersion: string; kind: string }): string {
  const version = obj.apiVersion.split('/').pop()!;
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${obj.kind}`;
}
