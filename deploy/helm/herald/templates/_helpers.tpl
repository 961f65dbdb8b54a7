{{/* Names and labels shared by the templates. */}}

{{- define "herald.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's resource name: the release name, with the chart's name
unless it already contains it. */}}
{{- define "herald.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "herald.selectorLabels" -}}
app.kubernetes.io/name: {{ include "herald.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "herald.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "herald.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "herald.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "herald.fullname" .) -}}
{{- end -}}

{{/* terminationGracePeriodSeconds: given, or long enough for the preStop
sleep, the drain window and what finishes after it. */}}
{{- define "herald.gracePeriod" -}}
{{- $floor := add .Values.preStopSleepSeconds .Values.drainTimeoutSeconds -}}
{{- if .Values.terminationGracePeriodSeconds -}}
{{- if le (int .Values.terminationGracePeriodSeconds) (int $floor) -}}
{{- fail (printf "terminationGracePeriodSeconds (%v) must exceed preStopSleepSeconds + drainTimeoutSeconds (%v), or the drain is cut short" .Values.terminationGracePeriodSeconds $floor) -}}
{{- end -}}
{{- .Values.terminationGracePeriodSeconds -}}
{{- else -}}
{{- add $floor 30 -}}
{{- end -}}
{{- end -}}

{{/* The settings that are secrets: never in the ConfigMap. */}}
{{- define "herald.secretSettings" -}}
HERALD_JWT_SECRET HERALD_PUBLISHER_KEY HERALD_NEXTAUTH_SECRET HERALD_DB HERALD_BUS
{{- end -}}

{{/* validate stops the rendering with one clear line for a configuration
that cannot work. */}}
{{- define "herald.validate" -}}
{{- $secretKeys := splitList " " (include "herald.secretSettings" .) -}}
{{- range $k, $v := .Values.config -}}
{{- if has $k $secretKeys -}}
{{- fail (printf "config.%s is a secret: set it under secrets (or database.url, bus.url), which go to a Secret, not the ConfigMap" $k) -}}
{{- end -}}
{{- if not (hasPrefix "HERALD_" $k) -}}
{{- fail (printf "config.%s: only HERALD_* settings belong in config" $k) -}}
{{- end -}}
{{- if has $k (list "HERALD_ADDR" "HERALD_DRAIN_TIMEOUT" "HERALD_INSTANCE_ID") -}}
{{- fail (printf "config.%s is set by the chart (see values.yaml)" $k) -}}
{{- end -}}
{{- end -}}
{{- if gt (int .Values.replicaCount) 1 -}}
{{- if not (hasPrefix "postgres" .Values.database.url) -}}
{{- if not .Values.secrets.existingSecret -}}
{{- fail "replicaCount > 1 needs a shared store: set database.url to a postgres:// URL (SQLite is one file, one pod)" -}}
{{- end -}}
{{- end -}}
{{- if not (hasPrefix "redis" .Values.bus.url) -}}
{{- if not .Values.secrets.existingSecret -}}
{{- fail "replicaCount > 1 needs a shared bus: set bus.url to a redis:// URL (the memory bus reaches one pod)" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if not .Values.secrets.existingSecret -}}
{{- if and (not .Values.secrets.jwtSecret) (not .Values.config.HERALD_JWKS_URL) -}}
{{- fail "secrets.jwtSecret (at least 32 bytes) or config.HERALD_JWKS_URL is required" -}}
{{- end -}}
{{- if not .Values.secrets.publisherKey -}}
{{- fail "secrets.publisherKey (at least 16 bytes) is required" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* sqlite reports whether the store is the SQLite file in the volume. */}}
{{- define "herald.sqlite" -}}
{{- if and (not .Values.database.url) (not .Values.secrets.existingSecret) -}}true{{- end -}}
{{- end -}}
