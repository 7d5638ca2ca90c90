// Text lbc echoes from users (annotation values, names, error messages quoting them)
// goes into Events, conditions and log lines, and is cut to a bound there: a 100 KB
// annotation value must not become a 100 KB Event, status or log line.
//
// The bounds are the API's own: an Event's note may be at most 1024 bytes
// (NoteLengthLimit, kube-apiserver pkg/apis/core/validation/events.go; enforced for
// events.k8s.io/v1, and the size client-go's new recorder keeps to), and a
// metav1.Condition's message at most 32768 (its +kubebuilder:validation:MaxLength).

/** Bytes of a metav1.Condition message (its schema's maxLength). */
export const MAX_CONDITION_MESSAGE = 32_768;
/** Bytes of one string field in a log line: enough for any error lbc writes itself. */
export const MAX_LOG_FIELD = 4096;

/**
 * `text` when it fits in maxBytes of UTF-8; else its start, cut on a character
 * boundary, and a marker with the original size, all within maxBytes.
 */
export function truncate(text: string, maxBytes: number): string {
  // n UTF-16 units are at most 3n bytes of UTF-8: short text needs no measuring.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= maxBytes) return text;
  const marker = `… (truncated, ${bytes} bytes)`;
  const room = maxBytes - Buffer.byteLength(marker, 'utf8');
  if (room <= 0) return marker.slice(0, maxBytes);
  const buf = Buffer.from(text, 'utf8');
  let end = room;
  // Back off continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && ((buf[end] ?? 0) & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8') + marker;
}
