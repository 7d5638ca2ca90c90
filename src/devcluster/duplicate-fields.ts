// Duplicate keys in a JSON body. JSON.parse keeps the last silently; kube-apiserver's strict
// decoder (sigs.k8s.io/json) reports each one by its field path for `fieldValidation`
// (Strict refuses the write, Warn warns), so the body text has to be read again for them.

/**
 * The paths of the keys that appear twice in one object of `text` (already known to be
 * valid JSON), in the order they are met: `metadata.name`, `spec.rules[0].matches[0].path.type`.
 */
export function duplicateFields(text: string): string[] {
  const found: string[] = [];
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const string = (): string => {
    const start = i;
    i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const seen = new Set<string>();
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        const key = string();
        const at = path === '' ? key : `${path}.${key}`;
        if (seen.has(key)) found.push(at);
        seen.add(key);
        ws();
        i++; // ':'
        value(at);
        ws();
        if (text[i++] === '}') return;
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        value(`${path}[${n}]`);
        ws();
        if (text[i++] === ']') return;
      }
    }
    if (c === '"') {
      string();
      return;
    }
    while (i < text.length && !',}] \n\r\t'.includes(text[i]!)) i++;
  };
  value('');
  return found;
}
