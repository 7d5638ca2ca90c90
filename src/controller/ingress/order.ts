// The order of what the Ingress builder emits (members, target sets, certificates,
// actions): code-point order of their keys, never the order the caches handed the
// objects over nor the locale's, so the same group always builds the same spec.
export const codePointOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
