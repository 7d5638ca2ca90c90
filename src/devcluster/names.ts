// Object name rules of k8s.io/apimachinery/pkg/util/validation, worded as it words them.
import { fieldError, type StatusCause } from './errors.js';
import type { NameRule } from './resources.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export function validateName(rule: NameRule, name: string, field: string): StatusCause[] {
  switch (rule) {
    case 'dns1123-label':
      if (name.length > 63) return [fieldError.invalid(field, name, 'must be no more than 63 characters')];
      return DNS1123_LABEL.test(name)
        ? []
        : [fieldError.invalid(field, name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")];
    case 'dns1035-label':
      if (name.length > 63) return [fieldError.invalid(field, name, 'must be no more than 63 characters')];
      return DNS1035_LABEL.test(name)
        ? []
        : [fieldError.invalid(field, name, "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")];
    case 'dns1123-subdomain':
      if (name.length > 253) return [fieldError.invalid(field, name, 'must be no more than 253 characters')];
      return DNS1123_SUBDOMAIN.test(name)
        ? []
        : [fieldError.invalid(field, name, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")];
    case 'path-segment':
      if (name === '.' || name === '..') return [fieldError.invalid(field, name, `may not be '${name}'`)];
      if (/[/%]/.test(name)) return [fieldError.invalid(field, name, "may not contain '/' or '%'")];
      return [];
  }
}

export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}
