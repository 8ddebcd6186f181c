{{/* Name of every object: the service's name (app.name), else the release name. */}}
{{- define "k1s0-service.fullname" -}}
{{- default .Release.Name (default .Values.app.name .Values.nameOverride) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "k1s0-service.selectorLabels" -}}
app.kubernetes.io/name: {{ include "k1s0-service.fullname" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "k1s0-service.labels" -}}
{{ include "k1s0-service.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: k1s0
k1s0.io/tier: {{ .Values.app.tier }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "k1s0-service.image" -}}
{{- printf "%s/%s:%s" .Values.image.registry .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* Node arguments of the image's CMD (same order; infra/test/helm-chart.test.ts checks it), plus
     --env-file when Vault renders one. */}}
{{- define "k1s0-service.args" -}}
- --heap-growing-percent=30
- --max-semi-space-size=8
- --enable-source-maps
- --experimental-async-context-frame
{{- if .Values.vault.enabled }}
- --env-file=/vault/secrets/service.env
{{- end }}
{{- end -}}

{{/* Environment shared by the Deployment and the migration Job. */}}
{{- define "k1s0-service.env" -}}
{{- range $name, $value := .Values.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- range $name, $ref := .Values.secretEnv }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.secretName | default (printf "%s-secrets" $.Release.Name) }}
      key: {{ $ref.key | default $name }}
{{- end }}
{{- end -}}

{{- define "k1s0-service.podAnnotations" -}}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- if .Values.vault.enabled }}
vault.hashicorp.com/agent-inject: "true"
vault.hashicorp.com/role: {{ .Values.vault.role | quote }}
vault.hashicorp.com/agent-inject-secret-service.env: {{ .Values.vault.secretPath | quote }}
vault.hashicorp.com/agent-inject-template-service.env: {{ .Values.vault.template | quote }}
{{- range $name, $path := .Values.vault.extraSecrets }}
vault.hashicorp.com/agent-inject-secret-{{ $name }}: {{ $path | quote }}
{{- end }}
{{- end }}
{{- if .Values.config }}
checksum/config: {{ toYaml .Values.config | sha256sum }}
{{- end }}
{{- end -}}
