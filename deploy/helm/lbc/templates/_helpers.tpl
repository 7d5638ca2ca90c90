{{/* Labels every object carries, as `lbc manifests` sets them. */}}
{{- define "lbc.labels" -}}
app.kubernetes.io/name: lbc
{{- end }}

{{/* The configuration file of the ConfigMap, in the layout `lbc manifests` prints. */}}
{{- define "lbc.config" -}}
clusterName: {{ .Values.clusterName }}
providers:
  - name: {{ .Values.provider }}
    type: {{ .Values.provider }}
    options:
{{- if eq .Values.provider "aws" }}
      region: {{ .Values.aws.region }}
{{- else if eq .Values.provider "gce" }}
      project: {{ .Values.gce.project }}
      region: {{ .Values.gce.region }}
{{- else if eq .Values.provider "metal" }}
{{- if .Values.metal.addresses }}
      pools:
        - name: default
          addresses:
{{- range .Values.metal.addresses }}
            - {{ . }}
{{- end }}
{{- end }}
      speaker:
        leaseNamespace: {{ .Values.namespace }}
{{- else if eq .Values.provider "local" }}
      portOffset: {{ .Values.local.portOffset }}
{{- end }}
{{- if or (eq .Values.provider "metal") (eq .Values.provider "local") }}
defaultClass: lbc.dev/{{ .Values.provider }}
{{- end }}
{{- end }}
