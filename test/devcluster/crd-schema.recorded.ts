// Answers of a real kube-apiserver v1.26.0 (../shared/kube) to these objects, recorded with
// dry-run requests after installing the CRDs of ../shared/crds (Gateway API from its experimental
// channel) and the Widget CRD below: `causes` are the Status details it returned, `stored` what it
// stored (pruned and defaulted; metadata left out). `unordered`: the server's order varies between
// requests (kube-openapi walks object properties in Go map order).

export interface RecordedCase {
  name: string;
  /** The CRD file under ../shared/crds. */
  crd?: string;
  obj: Record<string, unknown>;
  old?: Record<string, unknown>;
  causes?: { reason: string; message: string; field: string }[];
  unordered?: boolean;
  stored?: Record<string, unknown>;
  storedMetadataKeys?: string[];
}

/** A CRD made for this test, to reach schema features the shipped CRDs do not use. */
export const widgetCrd = {
  "apiVersion": "apiextensions.k8s.io/v1",
  "kind": "CustomResourceDefinition",
  "metadata": {
    "name": "widgets.crdval.example.com"
  },
  "spec": {
    "group": "crdval.example.com",
    "scope": "Namespaced",
    "names": {
      "plural": "widgets",
      "singular": "widget",
      "kind": "Widget",
      "listKind": "WidgetList"
    },
    "versions": [
      {
        "name": "v1",
        "served": true,
        "storage": true,
        "schema": {
          "openAPIV3Schema": {
            "type": "object",
            "properties": {
              "spec": {
                "type": "object",
                "properties": {
                  "tags": {
                    "type": "array",
                    "items": {
                      "type": "string"
                    },
                    "x-kubernetes-list-type": "set"
                  },
                  "note": {
                    "type": "string",
                    "nullable": true
                  },
                  "ratio": {
                    "type": "number",
                    "minimum": 0,
                    "exclusiveMinimum": true,
                    "maximum": 1,
                    "exclusiveMaximum": true
                  },
                  "step": {
                    "type": "integer",
                    "multipleOf": 5
                  },
                  "when": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "cidr": {
                    "type": "string",
                    "format": "cidr"
                  },
                  "selector": {
                    "type": "object",
                    "minProperties": 1,
                    "additionalProperties": {
                      "type": "string"
                    }
                  },
                  "limits": {
                    "type": "object",
                    "additionalProperties": {
                      "type": "integer",
                      "x-kubernetes-validations": [
                        {
                          "rule": "self >= 0",
                          "message": "must be non-negative"
                        }
                      ]
                    }
                  },
                  "free": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": true,
                    "properties": {
                      "known": {
                        "type": "integer"
                      }
                    }
                  },
                  "template": {
                    "type": "object",
                    "x-kubernetes-embedded-resource": true,
                    "properties": {
                      "spec": {
                        "type": "object",
                        "properties": {
                          "a": {
                            "type": "string"
                          }
                        }
                      }
                    }
                  },
                  "level": {
                    "type": "string",
                    "enum": [
                      "low",
                      "high"
                    ],
                    "default": "low"
                  },
                  "nested": {
                    "type": "object",
                    "default": {},
                    "properties": {
                      "mode": {
                        "type": "string",
                        "default": "auto"
                      },
                      "count": {
                        "type": "integer",
                        "default": 1
                      }
                    }
                  },
                  "pair": {
                    "type": "object",
                    "properties": {
                      "min": {
                        "type": "integer"
                      },
                      "max": {
                        "type": "integer"
                      }
                    },
                    "x-kubernetes-validations": [
                      {
                        "rule": "self.min <= self.max",
                        "message": "min must not exceed max"
                      },
                      {
                        "rule": "self.max < 100"
                      }
                    ]
                  },
                  "dur": {
                    "type": "string",
                    "x-kubernetes-validations": [
                      {
                        "rule": "duration(self).getMilliseconds() < 1000",
                        "message": "under a second in milliseconds"
                      },
                      {
                        "rule": "duration(self).getMinutes() < 1",
                        "message": "under a minute"
                      }
                    ]
                  },
                  "port": {
                    "x-kubernetes-int-or-string": true,
                    "x-kubernetes-validations": [
                      {
                        "rule": "self != 0",
                        "message": "port must not be zero"
                      }
                    ]
                  },
                  "since": {
                    "type": "string",
                    "format": "date-time",
                    "x-kubernetes-validations": [
                      {
                        "rule": "self > timestamp('2020-01-01T00:00:00Z')",
                        "message": "must be after 2020"
                      }
                    ]
                  }
                }
              }
            }
          }
        }
      }
    ]
  }
} as const;

export const invalidCases: RecordedCase[] = [
  {"name": "path//", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r1"}, "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/a//b"}}], "backendRefs": [{"name": "svc", "port": 80}]}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"object\": must not contain '//' when type one of ['Exact', 'PathPrefix']", "field": "spec.rules[0].matches[0].path"}]},
  {"name": "port-string", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r1"}, "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [{"name": "svc", "port": "x"}]}]}}, "causes": [{"reason": "FieldValueTypeInvalid", "message": "Invalid value: \"string\": spec.rules[0].backendRefs[0].port in body must be of type integer: \"string\"", "field": "spec.rules[0].backendRefs[0].port"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation", "field": "<nil>"}]},
  {"name": "path-type-enum", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r1"}, "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"matches": [{"path": {"type": "Foo", "value": "/a"}}]}]}}, "causes": [{"reason": "FieldValueNotSupported", "message": "Unsupported value: \"Foo\": supported values: \"Exact\", \"PathPrefix\", \"RegularExpression\"", "field": "spec.rules[0].matches[0].path.type"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"object\": type must be one of ['Exact', 'PathPrefix', 'RegularExpression']", "field": "spec.rules[0].matches[0].path"}]},
  {"name": "hostname-pattern", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r1"}, "spec": {"parentRefs": [{"name": "gw"}], "hostnames": ["Bad_Host"]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"Bad_Host\": spec.hostnames[0] in body should match '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'", "field": "spec.hostnames[0]"}]},
  {"name": "port-0", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r1"}, "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [{"name": "svc", "port": 0}]}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: 0: spec.rules[0].backendRefs[0].port in body should be greater than or equal to 1", "field": "spec.rules[0].backendRefs[0].port"}]},
  {"name": "port-70000", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r1"}, "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [{"name": "svc", "port": 70000}]}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: 70000: spec.rules[0].backendRefs[0].port in body should be less than or equal to 65535", "field": "spec.rules[0].backendRefs[0].port"}]},
  {"name": "hostnames-17", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r1"}, "spec": {"parentRefs": [{"name": "gw"}], "hostnames": ["a1.com", "a2.com", "a3.com", "a4.com", "a5.com", "a6.com", "a7.com", "a8.com", "a9.com", "a10.com", "a11.com", "a12.com", "a13.com", "a14.com", "a15.com", "a16.com", "a17.com"]}}, "causes": [{"reason": "FieldValueTooMany", "message": "Too many: 17: must have at most 16 items", "field": "spec.hostnames"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation", "field": "<nil>"}]},
  {"name": "parentref-no-name", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r1"}, "spec": {"parentRefs": [{"kind": "Gateway"}]}}, "causes": [{"reason": "FieldValueRequired", "message": "Required value", "field": "spec.parentRefs[0].name"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation", "field": "<nil>"}]},
  {"name": "gw-dup-listener", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_gateways.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "g1"}, "spec": {"gatewayClassName": "x", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}, {"name": "http", "port": 81, "protocol": "HTTP"}]}}, "causes": [{"reason": "FieldValueDuplicate", "message": "Duplicate value: map[string]interface {}{\"name\":\"http\"}", "field": "spec.listeners[1]"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"array\": Listener name must be unique within the Gateway", "field": "spec.listeners"}]},
  {"name": "gw-bad-ip", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_gateways.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "g1"}, "spec": {"gatewayClassName": "x", "addresses": [{"type": "IPAddress", "value": "300.1.1.1"}], "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"\": \"spec.addresses[0]\" must validate one and only one schema (oneOf). Found none valid", "field": "<nil>"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"\": \"spec.addresses[0].value\" must validate at least one schema (anyOf)", "field": "<nil>"}, {"reason": "FieldValueTypeInvalid", "message": "Invalid value: \"300.1.1.1\": spec.addresses[0].value in body must be of type ipv4: \"300.1.1.1\"", "field": "spec.addresses[0].value"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation", "field": "<nil>"}]},
  {"name": "gw-hostname-tcp", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_gateways.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "g1"}, "spec": {"gatewayClassName": "x", "listeners": [{"name": "tcp", "port": 80, "protocol": "TCP", "hostname": "a.example.com"}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"array\": hostname must not be specified for protocols ['TCP', 'UDP']", "field": "spec.listeners"}]},
  {"name": "two-errors", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r1"}, "spec": {"parentRefs": [{"name": "gw", "port": "x"}], "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/a//b"}}]}]}}, "causes": [{"reason": "FieldValueTypeInvalid", "message": "Invalid value: \"string\": spec.parentRefs[0].port in body must be of type integer: \"string\"", "field": "spec.parentRefs[0].port"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation", "field": "<nil>"}]},
  {"name": "tgb-enum", "crd": "aws-load-balancer-controller-v3.5.0/elbv2.k8s.aws_targetgroupbindings.yaml", "obj": {"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding", "metadata": {"name": "t1"}, "spec": {"targetGroupARN": "arn:x", "targetType": "pod", "serviceRef": {"name": "s", "port": 80}}}, "causes": [{"reason": "FieldValueNotSupported", "message": "Unsupported value: \"pod\": supported values: \"instance\", \"ip\"", "field": "spec.targetType"}]},
  {"name": "tgb-port-bool", "crd": "aws-load-balancer-controller-v3.5.0/elbv2.k8s.aws_targetgroupbindings.yaml", "obj": {"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding", "metadata": {"name": "t1"}, "spec": {"targetGroupARN": "arn:x", "serviceRef": {"name": "s", "port": true}}}, "causes": [{"reason": "FieldValueTypeInvalid", "message": "Invalid value: \"boolean\": spec.serviceRef.port in body must be of type integer,string: \"boolean\"", "field": "spec.serviceRef.port"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"\": \"spec.serviceRef.port\" must validate at least one schema (anyOf)", "field": "<nil>"}, {"reason": "FieldValueTypeInvalid", "message": "Invalid value: \"boolean\": spec.serviceRef.port in body must be of type integer: \"boolean\"", "field": "spec.serviceRef.port"}]},
  {"name": "tgb-port-float", "crd": "aws-load-balancer-controller-v3.5.0/elbv2.k8s.aws_targetgroupbindings.yaml", "obj": {"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding", "metadata": {"name": "t1"}, "spec": {"targetGroupARN": "arn:x", "serviceRef": {"name": "s", "port": 1.5}}}, "causes": [{"reason": "FieldValueTypeInvalid", "message": "Invalid value: \"number\": spec.serviceRef.port in body must be of type integer,string: \"number\"", "field": "spec.serviceRef.port"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"\": \"spec.serviceRef.port\" must validate at least one schema (anyOf)", "field": "<nil>"}, {"reason": "FieldValueTypeInvalid", "message": "Invalid value: \"number\": spec.serviceRef.port in body must be of type integer: \"number\"", "field": "spec.serviceRef.port"}]},
  {"name": "tgb-missing-ref", "crd": "aws-load-balancer-controller-v3.5.0/elbv2.k8s.aws_targetgroupbindings.yaml", "obj": {"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding", "metadata": {"name": "t1"}, "spec": {"targetGroupARN": "arn:x"}}, "causes": [{"reason": "FieldValueRequired", "message": "Required value", "field": "spec.serviceRef"}]},
  {"name": "pool-addresses-string", "crd": "metallb-v0.16.1/metallb.io_ipaddresspools.yaml", "obj": {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "p1"}, "spec": {"addresses": "10.0.0.0/24"}}, "causes": [{"reason": "FieldValueTypeInvalid", "message": "Invalid value: \"string\": spec.addresses in body must be of type array: \"string\"", "field": "spec.addresses"}]},
  {"name": "pool-autoassign-string", "crd": "metallb-v0.16.1/metallb.io_ipaddresspools.yaml", "obj": {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "p1"}, "spec": {"addresses": ["10.0.0.0/24"], "autoAssign": "yes"}}, "causes": [{"reason": "FieldValueTypeInvalid", "message": "Invalid value: \"string\": spec.autoAssign in body must be of type boolean: \"string\"", "field": "spec.autoAssign"}]},
  {"name": "pool-addr-int", "crd": "metallb-v0.16.1/metallb.io_ipaddresspools.yaml", "obj": {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "p1"}, "spec": {"addresses": [5]}}, "causes": [{"reason": "FieldValueTypeInvalid", "message": "Invalid value: \"integer\": spec.addresses[0] in body must be of type string: \"integer\"", "field": "spec.addresses[0]"}]},
  {"name": "pool-priority-float", "crd": "metallb-v0.16.1/metallb.io_ipaddresspools.yaml", "obj": {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "p1"}, "spec": {"addresses": ["10.0.0.0/24"], "serviceAllocation": {"priority": 1.5}}}, "causes": [{"reason": "FieldValueTypeInvalid", "message": "Invalid value: \"number\": spec.serviceAllocation.priority in body must be of type integer: \"number\"", "field": "spec.serviceAllocation.priority"}]},
  {"name": "pool-spec-missing", "crd": "metallb-v0.16.1/metallb.io_ipaddresspools.yaml", "obj": {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "p1"}}, "causes": [{"reason": "FieldValueRequired", "message": "Required value", "field": "spec"}]},
  {"name": "hostname-254", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r1"}, "spec": {"parentRefs": [{"name": "gw"}], "hostnames": ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com"]}}, "causes": [{"reason": "FieldValueTooLong", "message": "Too long: may not be longer than 253", "field": "spec.hostnames[0]"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation", "field": "<nil>"}]},
  {"name": "gw-listener-hostname-bad", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_gateways.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "g1"}, "spec": {"gatewayClassName": "x", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP", "hostname": "*.Example.com"}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"*.Example.com\": spec.listeners[0].hostname in body should match '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'", "field": "spec.listeners[0].hostname"}]},
  {"name": "gw-name-empty", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_gateways.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "g1"}, "spec": {"gatewayClassName": "", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"\": spec.gatewayClassName in body should be at least 1 chars long", "field": "spec.gatewayClassName"}]},
  {"name": "gw-listeners-empty", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_gateways.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "g1"}, "spec": {"gatewayClassName": "x", "listeners": []}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: 0: spec.listeners in body should have at least 1 items", "field": "spec.listeners"}]},
  {"name": "gw-infra-labels", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_gateways.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "g1"}, "spec": {"gatewayClassName": "x", "infrastructure": {"labels": {"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6", "g": "7", "h": "8", "i": "9"}}, "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}}, "causes": [{"reason": "FieldValueTooMany", "message": "Too many: 9: must have at most 8 items", "field": "spec.infrastructure.labels"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation", "field": "<nil>"}]},
  {"name": "gw-infra-annot", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_gateways.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "g1"}, "spec": {"gatewayClassName": "x", "infrastructure": {"annotations": {"-bad": "x"}}, "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"object\": Annotation keys must be in the form of an optional DNS subdomain prefix followed by a required name segment of up to 63 characters.", "field": "spec.infrastructure.annotations"}]},
  {"name": "bgppeer-connecttime", "crd": "metallb-v0.16.1/metallb.io_bgppeers.yaml", "obj": {"apiVersion": "metallb.io/v1beta2", "kind": "BGPPeer", "metadata": {"name": "b1"}, "spec": {"myASN": 64500, "peerASN": 64501, "peerAddress": "10.0.0.1", "connectTime": "1500ms"}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"string\": connect time should contain a whole number of seconds", "field": "spec.connectTime"}]},
  {"name": "hr-timeouts", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r1"}, "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"timeouts": {"request": "1s", "backendRequest": "2s"}}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"object\": backendRequest timeout cannot be longer than request timeout", "field": "spec.rules[0].timeouts"}]},
  {"name": "hr-regex-path", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r1"}, "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"matches": [{"path": {"type": "Exact", "value": "a b"}}]}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"object\": value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']", "field": "spec.rules[0].matches[0].path"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"object\": must only contain valid characters (matching ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types ['Exact', 'PathPrefix']", "field": "spec.rules[0].matches[0].path"}]},
  {"name": "hr-parentref-dup", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r1"}, "spec": {"parentRefs": [{"name": "gw"}, {"name": "gw"}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"array\": sectionName or port must be unique when parentRefs includes 2 or more references to the same parent", "field": "spec.parentRefs"}]},
  {"name": "hr-minlen", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r1"}, "spec": {"parentRefs": [{"name": ""}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"\": spec.parentRefs[0].name in body should be at least 1 chars long", "field": "spec.parentRefs[0].name"}]},
  {"name": "gw-https-tls-passthrough", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_gateways.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "g1"}, "spec": {"gatewayClassName": "x", "listeners": [{"name": "h", "port": 443, "protocol": "HTTPS", "tls": {"mode": "Passthrough"}}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"array\": tls mode must be Terminate for protocol HTTPS", "field": "spec.listeners"}]},
  {"name": "gw-http-with-tls", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_gateways.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "g1"}, "spec": {"gatewayClassName": "x", "listeners": [{"name": "h", "port": 80, "protocol": "HTTP", "tls": {"mode": "Terminate"}}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"array\": tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']", "field": "spec.listeners"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"object\": no such key: certificateRefs evaluating rule: certificateRefs or options must be specified when mode is Terminate", "field": "spec.listeners[0].tls"}]},
  {"name": "gw-listener-combo", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_gateways.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "g1"}, "spec": {"gatewayClassName": "x", "listeners": [{"name": "a", "port": 80, "protocol": "HTTP", "hostname": "a.example.com"}, {"name": "b", "port": 80, "protocol": "HTTP", "hostname": "a.example.com"}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"array\": Combination of port, protocol and hostname must be unique for each listener", "field": "spec.listeners"}]},
  {"name": "gw-addr-hostname", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_gateways.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "g1"}, "spec": {"gatewayClassName": "x", "addresses": [{"type": "Hostname", "value": "Bad_Host"}], "listeners": [{"name": "h", "port": 80, "protocol": "HTTP"}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"object\": Hostname value must be empty or contain only valid characters (matching ^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)", "field": "spec.addresses[0]"}]},
  {"name": "gw-port-0", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_gateways.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "g1"}, "spec": {"gatewayClassName": "x", "listeners": [{"name": "h", "port": 0, "protocol": "HTTP"}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: 0: spec.listeners[0].port in body should be greater than or equal to 1", "field": "spec.listeners[0].port"}]},
  {"name": "gc-controller-pattern", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_gatewayclasses.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "c1"}, "spec": {"controllerName": "nodomain"}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"nodomain\": spec.controllerName in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\\/[A-Za-z0-9\\/\\-._~%!$&'()*+,;=:]+$'", "field": "spec.controllerName"}]},
  {"name": "grpc-method-service", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_grpcroutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GRPCRoute", "metadata": {"name": "g1"}, "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"matches": [{"method": {"service": "foo-bar", "method": "Get"}}]}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"object\": service must only contain valid characters (matching ^(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*$)", "field": "spec.rules[0].matches[0].method"}]},
  {"name": "hr-redirect-prefix", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r1"}, "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"matches": [{"path": {"type": "Exact", "value": "/a"}}], "filters": [{"type": "RequestRedirect", "requestRedirect": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/b"}}}]}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"object\": When using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified", "field": "spec.rules[0]"}]},
  {"name": "hr-filter-mismatch", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r1"}, "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"filters": [{"type": "RequestRedirect", "requestHeaderModifier": {"set": [{"name": "a", "value": "b"}]}}]}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"object\": filter.requestHeaderModifier must be nil if the filter.type is not RequestHeaderModifier", "field": "spec.rules[0].filters[0]"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"object\": filter.requestRedirect must be specified for RequestRedirect filter.type", "field": "spec.rules[0].filters[0]"}]},
  {"name": "hr-weight-neg", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r1"}, "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [{"name": "s", "port": 80, "weight": -1}]}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: -1: spec.rules[0].backendRefs[0].weight in body should be greater than or equal to 0", "field": "spec.rules[0].backendRefs[0].weight"}]},
  {"name": "hr-header-dup", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r1"}, "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"matches": [{"headers": [{"name": "x-a", "value": "1"}, {"name": "x-a", "value": "2"}]}]}]}}, "causes": [{"reason": "FieldValueDuplicate", "message": "Duplicate value: map[string]interface {}{\"name\":\"x-a\"}", "field": "spec.rules[0].matches[0].headers[1]"}]},
  {"name": "hr-svc-no-port", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r1"}, "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [{"name": "s"}]}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"object\": Must have port for Service reference", "field": "spec.rules[0].backendRefs[0]"}]},
  {"name": "refgrant-from-empty", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_referencegrants.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1beta1", "kind": "ReferenceGrant", "metadata": {"name": "g1"}, "spec": {"from": [], "to": [{"group": "", "kind": "Service"}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: 0: spec.from in body should have at least 1 items", "field": "spec.from"}]},
  {"name": "tls-hostname", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_tlsroutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1alpha2", "kind": "TLSRoute", "metadata": {"name": "t1"}, "spec": {"parentRefs": [{"name": "gw"}], "hostnames": ["*"], "rules": [{"backendRefs": [{"name": "s", "port": 443}]}]}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"*\": spec.hostnames[0] in body should match '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'", "field": "spec.hostnames[0]"}]},
  {"name": "xbtp-interval", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.x-k8s.io_xbackendtrafficpolicies.yaml", "obj": {"apiVersion": "gateway.networking.x-k8s.io/v1alpha1", "kind": "XBackendTrafficPolicy", "metadata": {"name": "x1"}, "spec": {"targetRefs": [{"group": "", "kind": "Service", "name": "s"}], "retryConstraint": {"budget": {"interval": "2h"}}}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"string\": interval can not be greater than one hour or less than one second", "field": "spec.retryConstraint.budget.interval"}]},
  {"name": "tgb-protocol-enum", "crd": "aws-load-balancer-controller-v3.5.0/elbv2.k8s.aws_targetgroupbindings.yaml", "obj": {"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding", "metadata": {"name": "t1"}, "spec": {"targetGroupARN": "arn:x", "targetGroupProtocol": "SCTP", "ipAddressType": "ipv5", "serviceRef": {"name": "s", "port": "http"}}}, "causes": [{"reason": "FieldValueNotSupported", "message": "Unsupported value: \"SCTP\": supported values: \"HTTP\", \"HTTPS\", \"TCP\", \"TLS\", \"UDP\", \"TCP_UDP\", \"QUIC\", \"TCP_QUIC\"", "field": "spec.targetGroupProtocol"}, {"reason": "FieldValueNotSupported", "message": "Unsupported value: \"ipv5\": supported values: \"ipv4\", \"ipv6\"", "field": "spec.ipAddressType"}], "unordered": true},
  {"name": "icp-scheme", "crd": "aws-load-balancer-controller-v3.5.0/elbv2.k8s.aws_ingressclassparams.yaml", "obj": {"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "IngressClassParams", "metadata": {"name": "i1"}, "spec": {"scheme": "public"}}, "causes": [{"reason": "FieldValueNotSupported", "message": "Unsupported value: \"public\": supported values: \"internal\", \"internet-facing\"", "field": "spec.scheme"}]},
  {"name": "bfd-receive", "crd": "metallb-v0.16.1/metallb.io_bfdprofiles.yaml", "obj": {"apiVersion": "metallb.io/v1beta1", "kind": "BFDProfile", "metadata": {"name": "b1"}, "spec": {"receiveInterval": 5, "detectMultiplier": 300}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: 5: spec.receiveInterval in body should be greater than or equal to 10", "field": "spec.receiveInterval"}, {"reason": "FieldValueInvalid", "message": "Invalid value: 300: spec.detectMultiplier in body should be less than or equal to 255", "field": "spec.detectMultiplier"}], "unordered": true},
  {"name": "bgppeer-asn", "crd": "metallb-v0.16.1/metallb.io_bgppeers.yaml", "obj": {"apiVersion": "metallb.io/v1beta2", "kind": "BGPPeer", "metadata": {"name": "b1"}, "spec": {"myASN": 4294967296, "peerASN": "64501", "peerAddress": "10.0.0.1"}}, "causes": [{"reason": "FieldValueTypeInvalid", "message": "Invalid value: \"string\": spec.peerASN in body must be of type integer: \"string\"", "field": "spec.peerASN"}, {"reason": "FieldValueInvalid", "message": "Invalid value: 4294967296: spec.myASN in body should be less than or equal to 4294967295", "field": "spec.myASN"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation", "field": "<nil>"}], "unordered": true},
  {"name": "l2-selector-required", "crd": "metallb-v0.16.1/metallb.io_l2advertisements.yaml", "obj": {"apiVersion": "metallb.io/v1beta1", "kind": "L2Advertisement", "metadata": {"name": "l1"}, "spec": {"nodeSelectors": [{"matchExpressions": [{"operator": "In"}]}]}}, "causes": [{"reason": "FieldValueRequired", "message": "Required value", "field": "spec.nodeSelectors[0].matchExpressions[0].key"}]},
  {"name": "gc-change-controller", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_gatewayclasses.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "c2", "resourceVersion": "395"}, "spec": {"controllerName": "example.com/b"}}, "old": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "c2"}, "spec": {"controllerName": "example.com/a"}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"string\": Value is immutable", "field": "spec.controllerName"}]},
];

export const normalizedCases: RecordedCase[] = [
  {"name": "hr-prune-default", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r1", "foo": "bar", "labels": {"a": "b"}}, "unknownTop": 1, "spec": {"unknown": {"x": 1}, "parentRefs": [{"name": "gw", "extra": 2}], "rules": [{"backendRefs": [{"name": "svc", "port": 80}]}]}}, "stored": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "spec": {"parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "gw"}], "rules": [{"backendRefs": [{"group": "", "kind": "Service", "name": "svc", "port": 80, "weight": 1}], "matches": [{"path": {"type": "PathPrefix", "value": "/"}}]}]}}, "storedMetadataKeys": ["labels", "name"]},
  {"name": "pool-null", "crd": "metallb-v0.16.1/metallb.io_ipaddresspools.yaml", "obj": {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "p1"}, "spec": {"addresses": ["10.0.0.0/24"], "autoAssign": null, "serviceAllocation": null}}, "stored": {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "spec": {"addresses": ["10.0.0.0/24"], "autoAssign": true, "avoidBuggyIPs": false}}, "storedMetadataKeys": ["name"]},
  {"name": "bgppeer-defaults", "crd": "metallb-v0.16.1/metallb.io_bgppeers.yaml", "obj": {"apiVersion": "metallb.io/v1beta2", "kind": "BGPPeer", "metadata": {"name": "b1"}, "spec": {"myASN": 64500, "peerASN": 64501, "peerAddress": "10.0.0.1"}}, "stored": {"apiVersion": "metallb.io/v1beta2", "kind": "BGPPeer", "spec": {"disableMP": false, "dualStackAddressFamily": false, "myASN": 64500, "peerASN": 64501, "peerAddress": "10.0.0.1", "peerPort": 179}}, "storedMetadataKeys": ["name"]},
  {"name": "meta-unknown", "crd": "metallb-v0.16.1/metallb.io_ipaddresspools.yaml", "obj": {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "p1", "bogus": "x", "labels": {"a": "b"}}, "spec": {"addresses": ["10.0.0.0/24"], "serviceAllocation": {"priority": 5, "extra": 1}}}, "stored": {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "spec": {"addresses": ["10.0.0.0/24"], "autoAssign": true, "avoidBuggyIPs": false, "serviceAllocation": {"priority": 5}}}, "storedMetadataKeys": ["labels", "name"]},
  {"name": "gc-same-controller", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_gatewayclasses.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "c2", "resourceVersion": "395"}, "spec": {"controllerName": "example.com/a", "description": "x"}}, "old": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "c2"}, "spec": {"controllerName": "example.com/a"}}},
];

export const widgetCases: RecordedCase[] = [
  {"name": "w-set-dup", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"tags": ["a", "b", "a"]}}, "causes": [{"reason": "FieldValueDuplicate", "message": "Duplicate value: \"a\"", "field": "spec.tags[2]"}]},
  {"name": "w-null-nullable", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"note": null}}, "stored": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "spec": {"level": "low", "nested": {"count": 1, "mode": "auto"}, "note": null}}, "storedMetadataKeys": ["name"]},
  {"name": "w-ratio-excl", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"ratio": 0}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: 0: spec.ratio in body should be greater than 0", "field": "spec.ratio"}]},
  {"name": "w-ratio-max", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"ratio": 1}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: 1: spec.ratio in body should be less than 1", "field": "spec.ratio"}]},
  {"name": "w-step", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"step": 7}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: 7: spec.step in body should be a multiple of 5", "field": "spec.step"}]},
  {"name": "w-when", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"when": "yesterday"}}, "causes": [{"reason": "FieldValueTypeInvalid", "message": "Invalid value: \"yesterday\": spec.when in body must be of type date-time: \"yesterday\"", "field": "spec.when"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation", "field": "<nil>"}]},
  {"name": "w-cidr", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"cidr": "10.0.0.0/33"}}, "causes": [{"reason": "FieldValueTypeInvalid", "message": "Invalid value: \"10.0.0.0/33\": spec.cidr in body must be of type cidr: \"10.0.0.0/33\"", "field": "spec.cidr"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation", "field": "<nil>"}]},
  {"name": "w-selector-empty", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"selector": {}}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: 0: spec.selector in body should have at least 1 properties", "field": "spec.selector"}]},
  {"name": "w-limit-neg", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"limits": {"cpu": -1}}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"integer\": must be non-negative", "field": "spec.limits[cpu]"}]},
  {"name": "w-free", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"free": {"known": 1, "other": {"x": [1]}}, "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "junk": 1}, "spec": {"a": "b", "c": "d"}, "extra": 1}}}, "stored": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "spec": {"free": {"known": 1, "other": {"x": [1]}}, "level": "low", "nested": {"count": 1, "mode": "auto"}, "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": {"a": "b"}}}}, "storedMetadataKeys": ["name"]},
  {"name": "w-defaults", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"nested": {"mode": "manual"}}}, "stored": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "spec": {"level": "low", "nested": {"count": 1, "mode": "manual"}}}, "storedMetadataKeys": ["name"]},
  {"name": "w-pair", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"pair": {"min": 5, "max": 200}}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"object\": failed rule: self.max < 100", "field": "spec.pair"}]},
  {"name": "w-pair-missing", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"pair": {"max": 2}}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"object\": no such key: min evaluating rule: min must not exceed max", "field": "spec.pair"}]},
  {"name": "w-enum-num", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"level": 5}}, "causes": [{"reason": "FieldValueTypeInvalid", "message": "Invalid value: \"integer\": spec.level in body must be of type string: \"integer\"", "field": "spec.level"}, {"reason": "FieldValueNotSupported", "message": "Unsupported value: 5: supported values: \"low\", \"high\"", "field": "spec.level"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation", "field": "<nil>"}]},
  {"name": "w-note-int", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"note": 5}}, "causes": [{"reason": "FieldValueTypeInvalid", "message": "Invalid value: \"integer\": spec.note in body must be of type string: \"integer\"", "field": "spec.note"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation", "field": "<nil>"}]},
  {"name": "w-limit-type", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"limits": {"cpu": "x"}}}, "causes": [{"reason": "FieldValueTypeInvalid", "message": "Invalid value: \"string\": spec.limits.cpu in body must be of type integer: \"string\"", "field": "spec.limits.cpu"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation", "field": "<nil>"}]},
  {"name": "w-tags-dup-int", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"tags": ["a", "a", "a"]}}, "causes": [{"reason": "FieldValueDuplicate", "message": "Duplicate value: \"a\"", "field": "spec.tags[1]"}]},
  {"name": "w-duration-ms", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"dur": "2500ms"}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"string\": under a second in milliseconds", "field": "spec.dur"}]},
  {"name": "w-duration-min", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"dur": "90s"}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"string\": under a second in milliseconds", "field": "spec.dur"}, {"reason": "FieldValueInvalid", "message": "Invalid value: \"string\": under a minute", "field": "spec.dur"}]},
  {"name": "w-int-or-string-cel", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"port": 0}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"\": port must not be zero", "field": "spec.port"}]},
  {"name": "w-timestamp-old", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"since": "2019-12-31T23:59:59.5Z"}}, "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"string\": must be after 2020", "field": "spec.since"}]},
  {"name": "w-timestamp-new", "obj": {"apiVersion": "crdval.example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"since": "2020-01-01T00:00:00.25+00:00"}}},
];

export const validCases: RecordedCase[] = [
  {"name": "gateway with HTTP and HTTPS listeners", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_gateways.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "prod-web", "namespace": "default"}, "spec": {"gatewayClassName": "lbc", "listeners": [{"name": "http", "protocol": "HTTP", "port": 80, "allowedRoutes": {"namespaces": {"from": "Same"}}}, {"name": "https", "protocol": "HTTPS", "port": 443, "hostname": "*.example.com", "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": "wildcard-cert"}]}}]}}, "stored": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "spec": {"gatewayClassName": "lbc", "listeners": [{"allowedRoutes": {"namespaces": {"from": "Same"}}, "name": "http", "port": 80, "protocol": "HTTP"}, {"allowedRoutes": {"namespaces": {"from": "Same"}}, "hostname": "*.example.com", "name": "https", "port": 443, "protocol": "HTTPS", "tls": {"certificateRefs": [{"group": "", "kind": "Secret", "name": "wildcard-cert"}], "mode": "Terminate"}}]}, "status": {"conditions": [{"lastTransitionTime": "1970-01-01T00:00:00Z", "message": "Waiting for controller", "reason": "Pending", "status": "Unknown", "type": "Accepted"}, {"lastTransitionTime": "1970-01-01T00:00:00Z", "message": "Waiting for controller", "reason": "Pending", "status": "Unknown", "type": "Programmed"}]}}, "storedMetadataKeys": ["name", "namespace"]},
  {"name": "httproute with matches, filters, weights and timeouts", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "store", "namespace": "default"}, "spec": {"parentRefs": [{"name": "prod-web", "sectionName": "https"}], "hostnames": ["store.example.com"], "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/v2"}, "headers": [{"name": "env", "value": "canary"}], "queryParams": [{"name": "debug", "value": "1"}], "method": "GET"}], "filters": [{"type": "RequestHeaderModifier", "requestHeaderModifier": {"set": [{"name": "x-env", "value": "canary"}], "remove": ["x-debug"]}}, {"type": "URLRewrite", "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}], "backendRefs": [{"name": "store-v2", "port": 8080, "weight": 90}, {"name": "store-v1", "port": 8080, "weight": 10}], "timeouts": {"request": "10s", "backendRequest": "2s"}}, {"backendRefs": [{"name": "store-v1", "port": 8080}]}]}}, "stored": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "spec": {"hostnames": ["store.example.com"], "parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "prod-web", "sectionName": "https"}], "rules": [{"backendRefs": [{"group": "", "kind": "Service", "name": "store-v2", "port": 8080, "weight": 90}, {"group": "", "kind": "Service", "name": "store-v1", "port": 8080, "weight": 10}], "filters": [{"requestHeaderModifier": {"remove": ["x-debug"], "set": [{"name": "x-env", "value": "canary"}]}, "type": "RequestHeaderModifier"}, {"type": "URLRewrite", "urlRewrite": {"path": {"replacePrefixMatch": "/", "type": "ReplacePrefixMatch"}}}], "matches": [{"headers": [{"name": "env", "type": "Exact", "value": "canary"}], "method": "GET", "path": {"type": "PathPrefix", "value": "/v2"}, "queryParams": [{"name": "debug", "type": "Exact", "value": "1"}]}], "timeouts": {"backendRequest": "2s", "request": "10s"}}, {"backendRefs": [{"group": "", "kind": "Service", "name": "store-v1", "port": 8080, "weight": 1}], "matches": [{"path": {"type": "PathPrefix", "value": "/"}}]}]}}, "storedMetadataKeys": ["name", "namespace"]},
  {"name": "httproute redirect to https", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_httproutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "redirect", "namespace": "default"}, "spec": {"parentRefs": [{"name": "prod-web", "sectionName": "http"}], "rules": [{"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}]}}, "stored": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "spec": {"parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "prod-web", "sectionName": "http"}], "rules": [{"filters": [{"requestRedirect": {"scheme": "https", "statusCode": 301}, "type": "RequestRedirect"}], "matches": [{"path": {"type": "PathPrefix", "value": "/"}}]}]}}, "storedMetadataKeys": ["name", "namespace"]},
  {"name": "grpcroute", "crd": "gateway-api-v1.4.0/experimental/gateway.networking.k8s.io_grpcroutes.yaml", "obj": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GRPCRoute", "metadata": {"name": "echo", "namespace": "default"}, "spec": {"parentRefs": [{"name": "prod-web"}], "rules": [{"matches": [{"method": {"service": "com.example.Echo", "method": "Say"}}], "backendRefs": [{"name": "echo", "port": 50051}]}]}}, "stored": {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GRPCRoute", "spec": {"parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "prod-web"}], "rules": [{"backendRefs": [{"group": "", "kind": "Service", "name": "echo", "port": 50051, "weight": 1}], "matches": [{"method": {"method": "Say", "service": "com.example.Echo", "type": "Exact"}}]}]}}, "storedMetadataKeys": ["name", "namespace"]},
  {"name": "ipaddresspool", "crd": "metallb-v0.16.1/metallb.io_ipaddresspools.yaml", "obj": {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "first-pool", "namespace": "default"}, "spec": {"addresses": ["192.168.10.0/24", "192.168.9.1-192.168.9.5", "fc00:f853:0ccd:e799::/124"], "autoAssign": true, "avoidBuggyIPs": false}}, "stored": {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "spec": {"addresses": ["192.168.10.0/24", "192.168.9.1-192.168.9.5", "fc00:f853:0ccd:e799::/124"], "autoAssign": true, "avoidBuggyIPs": false}}, "storedMetadataKeys": ["name", "namespace"]},
  {"name": "l2advertisement", "crd": "metallb-v0.16.1/metallb.io_l2advertisements.yaml", "obj": {"apiVersion": "metallb.io/v1beta1", "kind": "L2Advertisement", "metadata": {"name": "example", "namespace": "default"}, "spec": {"ipAddressPools": ["first-pool"], "nodeSelectors": [{"matchLabels": {"kubernetes.io/hostname": "node-1"}}]}}, "stored": {"apiVersion": "metallb.io/v1beta1", "kind": "L2Advertisement", "spec": {"ipAddressPools": ["first-pool"], "nodeSelectors": [{"matchLabels": {"kubernetes.io/hostname": "node-1"}}]}}, "storedMetadataKeys": ["name", "namespace"]},
  {"name": "bgppeer", "crd": "metallb-v0.16.1/metallb.io_bgppeers.yaml", "obj": {"apiVersion": "metallb.io/v1beta2", "kind": "BGPPeer", "metadata": {"name": "sample", "namespace": "default"}, "spec": {"myASN": 64500, "peerASN": 64501, "peerAddress": "10.0.0.1", "holdTime": "90s", "keepaliveTime": "30s", "connectTime": "5s", "disableMP": false, "dualStackAddressFamily": false, "peerPort": 179}}, "stored": {"apiVersion": "metallb.io/v1beta2", "kind": "BGPPeer", "spec": {"connectTime": "5s", "disableMP": false, "dualStackAddressFamily": false, "holdTime": "90s", "keepaliveTime": "30s", "myASN": 64500, "peerASN": 64501, "peerAddress": "10.0.0.1", "peerPort": 179}}, "storedMetadataKeys": ["name", "namespace"]},
  {"name": "targetgroupbinding", "crd": "aws-load-balancer-controller-v3.5.0/elbv2.k8s.aws_targetgroupbindings.yaml", "obj": {"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding", "metadata": {"name": "my-tgb", "namespace": "default"}, "spec": {"serviceRef": {"name": "awesome-service", "port": 80}, "targetGroupARN": "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/my-tg/73e2d6bc24d8a067", "targetType": "ip", "networking": {"ingress": [{"from": [{"securityGroup": {"groupID": "sg-0123"}}], "ports": [{"protocol": "TCP", "port": "http"}]}]}}}, "stored": {"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "TargetGroupBinding", "spec": {"networking": {"ingress": [{"from": [{"securityGroup": {"groupID": "sg-0123"}}], "ports": [{"port": "http", "protocol": "TCP"}]}]}, "serviceRef": {"name": "awesome-service", "port": 80}, "targetGroupARN": "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/my-tg/73e2d6bc24d8a067", "targetType": "ip"}}, "storedMetadataKeys": ["name", "namespace"]},
  {"name": "ingressclassparams", "crd": "aws-load-balancer-controller-v3.5.0/elbv2.k8s.aws_ingressclassparams.yaml", "obj": {"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "IngressClassParams", "metadata": {"name": "awesome-class"}, "spec": {"scheme": "internal", "ipAddressType": "dualstack", "group": {"name": "my-group"}, "tags": [{"key": "team", "value": "web"}]}}, "stored": {"apiVersion": "elbv2.k8s.aws/v1beta1", "kind": "IngressClassParams", "spec": {"group": {"name": "my-group"}, "ipAddressType": "dualstack", "scheme": "internal", "tags": [{"key": "team", "value": "web"}]}}, "storedMetadataKeys": ["name"]},
];
