{{/* The chart's name, or nameOverride. */}}
{{- define "gaffer.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The objects' name: fullnameOverride, else the release name (with the chart's name added
unless the release name holds it already). */}}
{{- define "gaffer.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "gaffer.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gaffer.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "gaffer.labels" -}}
{{ include "gaffer.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{- define "gaffer.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gaffer.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* True ("true") when the store is the embedded SQLite file (config.store.kind absent or sqlite). */}}
{{- define "gaffer.sqlite" -}}
{{- $store := (.Values.config | default dict).store | default dict }}
{{- eq ($store.kind | default "sqlite") "sqlite" }}
{{- end }}

{{/* The gRPC port from config.server.grpcPort, or 0 when gaffer serves no gRPC. */}}
{{- define "gaffer.grpcPort" -}}
{{- $server := (.Values.config | default dict).server | default dict }}
{{- $server.grpcPort | default 0 | int }}
{{- end }}

{{/*
gaffer's config as rendered into the ConfigMap: .Values.config, with, when the executor is
kubernetes, executor.kubernetes.namespace (the release's namespace), executor.gafferUrl (the
Service's address) and executor.kubernetes.workerTokenSecret (secrets.workerToken) filled in
where the values leave them out.
*/}}
{{- define "gaffer.config" -}}
{{- $config := deepCopy (.Values.config | default dict) }}
{{- $executor := $config.executor | default dict }}
{{- if eq ($executor.kind | default "local") "kubernetes" }}
{{- $kube := $executor.kubernetes | default dict }}
{{- if not (hasKey $kube "namespace") }}
{{- $_ := set $kube "namespace" .Release.Namespace }}
{{- end }}
{{- if and .Values.secrets.workerToken.name (not (hasKey $kube "workerTokenSecret")) }}
{{- $_ := set $kube "workerTokenSecret" (dict "name" .Values.secrets.workerToken.name "key" .Values.secrets.workerToken.key) }}
{{- end }}
{{- $_ := set $executor "kubernetes" $kube }}
{{- if not (hasKey $executor "gafferUrl") }}
{{- $_ := set $executor "gafferUrl" (printf "http://%s.%s.svc:%d" (include "gaffer.fullname" .) .Release.Namespace (int .Values.service.port)) }}
{{- end }}
{{- $_ := set $config "executor" $executor }}
{{- end }}
{{- toYaml $config }}
{{- end }}

{{/* A secretKeyRef env var when the reference names a Secret. */}}
{{- define "gaffer.secretEnv" -}}
{{- if .ref.name }}
- name: {{ .env }}
  valueFrom:
    secretKeyRef: { name: {{ .ref.name | quote }}, key: {{ .ref.key | quote }} }
{{- end }}
{{- end }}
