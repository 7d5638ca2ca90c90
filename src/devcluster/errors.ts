// API errors in the shape kube-apiserver returns them: a metav1.Status with code,
// reason and details, so that clients (client-go, client-node, kubectl) that switch on
// `reason` behave here exactly as against a real server.

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'Expired'
  | 'Gone'
  | 'UnsupportedMediaType'
  | 'NotAcceptable'
  | 'InternalError'
  | 'RequestEntityTooLarge';

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** The "group resource" as the API server names it in messages: `services`, `ingresses.networking.k8s.io`. */
export interface GroupResource {
  group: string;
  plural: string;
}

function qualified(gr: GroupResource): string {
  return gr.group ? `${gr.plural}.${gr.group}` : gr.plural;
}

export function notFound(gr: GroupResource, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualified(gr)} "${name}" not found`, {
    name,
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.plural,
  });
}

export function alreadyExists(gr: GroupResource, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, {
    name,
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.plural,
  });
}

export function conflict(gr: GroupResource, name: string, why: string): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`, {
    name,
    ...(gr.group ? { group: gr.group } : {}),
    kind: gr.plural,
  });
}

export const STALE_OBJECT = 'the object has been modified; please apply your changes to the latest version and try again';

/** 422: `Service "web" is invalid: spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range...` */
export function invalid(kind: string, group: string, name: string, causes: StatusCause[], qualifiedName = kind, detailsKind = kind): ApiError {
  // The message names each distinct error once; causes keep every entry (as apimachinery does).
  const text = [...new Set(causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)))];
  const joined = text.length === 1 ? text[0] : `[${text.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${qualifiedName} "${name}" is invalid: ${joined}`, {
    // metav1.StatusDetails.Name is omitempty.
    ...(name ? { name } : {}),
    ...(group ? { group } : {}),
    kind: detailsKind,
    causes,
  });
}

/** One field error, worded as k8s.io/apimachinery/pkg/util/validation/field does. */
export const fieldError = {
  invalid(field: string, value: unknown, detail: string): StatusCause {
    return { reason: 'FieldValueInvalid', message: `Invalid value: ${render(value)}: ${detail}`, field };
  },
  required(field: string, detail = ''): StatusCause {
    return { reason: 'FieldValueRequired', message: detail ? `Required value: ${detail}` : 'Required value', field };
  },
  duplicate(field: string, value: unknown): StatusCause {
    return { reason: 'FieldValueDuplicate', message: `Duplicate value: ${render(value)}`, field };
  },
  notSupported(field: string, value: unknown, valid: string[]): StatusCause {
    return {
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${render(value)}: supported values: ${valid.map((v) => `"${v}"`).join(', ')}`,
      field,
    };
  },
  forbidden(field: string, detail: string): StatusCause {
    return { reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field };
  },
};

function render(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return 'null';
  return JSON.stringify(value);
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function methodNotAllowed(): ApiError {
  return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}

/** An anonymous request (no credentials): authenticated as system:anonymous, then denied. */
export function forbiddenAnonymous(what: { verb: string; resource?: string; group?: string; namespace?: string; name?: string; path: string }): ApiError {
  if (!what.resource) {
    return new ApiError(403, 'Forbidden', `forbidden: User "system:anonymous" cannot ${what.verb} path "${what.path}"`, {});
  }
  const subject = what.name ? `${what.resource} "${what.name}"` : what.resource;
  const scope = what.namespace ? ` in the namespace "${what.namespace}"` : ' at the cluster scope';
  return new ApiError(
    403,
    'Forbidden',
    `${subject} is forbidden: User "system:anonymous" cannot ${what.verb} resource "${what.resource}" in API group "${what.group ?? ''}"${scope}`,
    { ...(what.name ? { name: what.name } : {}), ...(what.group ? { group: what.group } : {}), kind: what.resource },
  );
}

export function expired(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

/** What kube-apiserver answers for a patch in a format it does not take. */
export function unsupportedPatchType(): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', '415: Unsupported Media Type', {});
}

export function unsupportedMediaType(contentType: string): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got ${contentType})`, {});
}

/** Go's encoding/json wording for a JSON syntax error, from a JavaScript SyntaxError. */
export function jsonSyntaxMessage(text: string, err: unknown): string {
  const m = /position (\d+)/.exec(err instanceof Error ? err.message : '');
  const pos = m ? Number(m[1]) : text.length;
  const ch = text[pos];
  return ch === undefined ? 'unexpected end of JSON input' : `invalid character '${ch}' looking for beginning of value`;
}
