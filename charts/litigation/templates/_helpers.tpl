{{- define "app.name" -}}{{ .Chart.Name }}{{- end -}}
{{- define "app.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
courtcloud.court/core: {{ .Values.core | quote }}
{{- with .Values.site }}
courtcloud.court/site: {{ . | quote }}
{{- end }}
{{- end -}}
{{- define "app.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{/* Where a key of a Secret is read: /run/secrets/<secret>/<key>. Argument: {secret, key}. */}}
{{- define "app.secretFile" -}}
{{- printf "/run/secrets/%s/%s" .secret .key -}}
{{- end -}}
{{/*
The site's PostgreSQL cluster as one libpq URL: every member in `host`, the leader found by
target_session_attrs=read-write, the server verified against the trusted CAs. The host and
port lists go in the query (libpq's form) because SQLAlchemy cannot parse host:port lists in
the authority. No password: libpq takes it from PGPASSWORD, set from the Secret's file.
*/}}
{{- define "app.databaseUrl" -}}
{{- $db := .Values.database -}}
{{- $ports := list -}}
{{- range $db.hosts }}{{ $ports = append $ports (toString $db.port) }}{{ end -}}
postgresql://{{ $db.user }}@/{{ $db.name }}?host={{ join "," $db.hosts }}&port={{ join "," $ports }}&target_session_attrs=read-write&sslmode=verify-full&sslrootcert={{ include "app.secretFile" .Values.trust }}
{{- end -}}
{{/*
The container's command when the app needs the database password: the shell reads it from
the Secret's file into PGPASSWORD (libpq's own variable: the apps take no password file, and
libpq refuses a password file that its group may read, as a Secret's file is under fsGroup),
then becomes the app's entry point.
*/}}
{{- define "app.withDatabasePassword" -}}
{{- $file := include "app.secretFile" .Values.database.password -}}
PGPASSWORD="$(cat {{ $file }})" || { echo "{{ .Chart.Name }}: cannot read the database password from {{ $file }} (Secret {{ .Values.database.password.secret }}, key {{ .Values.database.password.key }})" >&2; exit 2; }; export PGPASSWORD; exec {{ .Values.entrypoint }}
{{- end -}}
