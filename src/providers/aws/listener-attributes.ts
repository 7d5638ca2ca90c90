// A listener's attributes (ELBv2 DescribeListenerAttributes / ModifyListenerAttributes), from
// a LoadBalancerConfiguration's listenerConfigurations[].listenerAttributes. Applied as
// aws-load-balancer-controller's listener attributes reconciler applies them
// (pkg/deploy/elbv2/listener_attributes_reconciler.go): only the keys given are compared
// with what DescribeListenerAttributes returns, and those that differ go in one
// ModifyListenerAttributes; a key no longer given is left as it is, as ALBC leaves it (and
// as lbc leaves a load balancer attribute). A listener without attributes is never read.
//
// Which keys a listener takes depends on its protocol (ELBv2 API reference,
// ListenerAttribute; NLB guide, "Update the TCP idle timeout": TCP listeners only, a TLS
// listener's is fixed at 350 seconds and UDP has none; ALB guide, "HTTP header
// modification": the mTLS/TLS header names on HTTPS listeners, the response headers and the
// server header on HTTP and HTTPS). ELBv2 refuses any other key with ValidationError; the
// synthesizers refuse it first, naming the entry, so nothing is half-built. The reads and
// writes are the listener manager's (listener.ts withListenerAttributes, listenerAttributesSteps).

const TCP_IDLE_TIMEOUT = 'tcp.idle_timeout.seconds';
const SERVER_HEADER = 'routing.http.response.server.enabled';
const RESPONSE_HEADERS = [
  SERVER_HEADER,
  ...[
    'strict_transport_security',
    'access_control_allow_origin',
    'access_control_allow_methods',
    'access_control_allow_headers',
    'access_control_allow_credentials',
    'access_control_expose_headers',
    'access_control_max_age',
    'content_security_policy',
    'x_content_type_options',
    'x_frame_options',
  ].map((h) => `routing.http.response.${h}.header_value`),
];
const TLS_HEADER_NAMES = [
  'x_amzn_mtls_clientcert_serial_number',
  'x_amzn_mtls_clientcert_issuer',
  'x_amzn_mtls_clientcert_subject',
  'x_amzn_mtls_clientcert_validity',
  'x_amzn_mtls_clientcert_leaf',
  'x_amzn_mtls_clientcert',
  'x_amzn_tls_version',
  'x_amzn_tls_cipher_suite',
].map((h) => `routing.http.request.${h}.header_name`);

/** The attribute keys ELBv2 takes on a listener of this protocol. */
export function listenerAttributeKeys(protocol: string): readonly string[] {
  switch (protocol) {
    case 'TCP':
      return [TCP_IDLE_TIMEOUT];
    case 'HTTP':
      return RESPONSE_HEADERS;
    case 'HTTPS':
      return [...TLS_HEADER_NAMES, ...RESPONSE_HEADERS];
    default:
      return [];
  }
}

/** What ELBv2 would refuse of these attributes on a listener of this protocol, one line each. */
export function listenerAttributesProblems(protocol: string, attributes: Readonly<Record<string, string>>): string[] {
  const allowed = listenerAttributeKeys(protocol);
  const problems: string[] = [];
  for (const [key, value] of Object.entries(attributes)) {
    if (!allowed.includes(key)) {
      problems.push(`${key} is not an attribute of ${protocol.startsWith('HTTP') ? 'an' : 'a'} ${protocol} listener${allowed.length > 0 ? ` (it takes ${allowed.length === 1 ? allowed[0] : 'the routing.http.* header attributes'})` : ' (it takes none)'}`);
    } else if (key === TCP_IDLE_TIMEOUT && !(/^\d+$/.test(value) && Number(value) >= 60 && Number(value) <= 6000)) {
      problems.push(`${key}: ${value} is not a whole number of seconds in [60, 6000]`);
    } else if (key === SERVER_HEADER && value !== 'true' && value !== 'false') {
      problems.push(`${key}: ${value} is not true or false`);
    }
  }
  return problems;
}
