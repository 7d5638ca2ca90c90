// How builders and annotation parsers report bad input: always naming what was wrong
// (a field path or an annotation) and why, so Events and status conditions can say it.

export type ModelError =
  | { readonly field: string; readonly reason: string; readonly object?: string }
  | { readonly annotation: string; readonly reason: string; readonly object?: string };

/** One line a human can act on: `Ingress default/web: annotation lbc.dev/x: reason`. */
export function formatModelError(e: ModelError): string {
  const where = 'field' in e ? `field ${e.field}` : `annotation ${e.annotation}`;
  return `${e.object ? `${e.object}: ` : ''}${where}: ${e.reason}`;
}
