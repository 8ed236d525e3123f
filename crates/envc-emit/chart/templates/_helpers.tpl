{{/*
Helpers shared by every template. The templates are generic: everything that differs per
environment or mode is in values.yaml, which envc generates from the IR.
*/}}

{{/* Labels of objects that belong to the whole environment. */}}
{{- define "envc.labels.environment" -}}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ .Values.global.environment }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- range $k, $v := .Values.global.labels }}
{{ $k }}: {{ $v | toJson }}
{{- end }}
{{- end }}

{{/* Selector labels of a service; the argument is (dict "root" $ "name" NAME "svc" SERVICE). */}}
{{- define "envc.selector" -}}
app.kubernetes.io/instance: {{ .root.Values.global.environment }}
app.kubernetes.io/name: {{ .name }}
{{- end }}

{{/* Every label of a service's objects. */}}
{{- define "envc.labels.service" -}}
{{ include "envc.labels.environment" .root }}
{{ include "envc.selector" . }}
{{- with .svc.component }}
app.kubernetes.io/component: {{ . | toJson }}
{{- end }}
{{- with .svc.version }}
app.kubernetes.io/version: {{ . | toJson }}
{{- end }}
{{- end }}

{{/* The Secret holding a secret's value: the name of an existing Secret, never a value. */}}
{{- define "envc.secretRef" -}}
{{- $s := index .root.Values.secrets .secret | default dict -}}
name: {{ required (printf "secrets.%s.existingSecret: name the existing Secret that holds it" .secret) $s.existingSecret }}
key: {{ $s.key | default "value" }}
optional: false
{{- end }}

{{/* Whether a service mounts a volume in its pod spec (scratch, or a Deployment's claim). */}}
{{- define "envc.hasPodVolumes" -}}
{{- $found := false -}}
{{- range .svc.volumes -}}
{{- if or (not .persistent) (eq $.svc.workload "Deployment") -}}{{- $found = true -}}{{- end -}}
{{- end -}}
{{- if or $found .svc.files -}}true{{- end -}}
{{- end }}

{{/* The pod template of a service's workload. */}}
{{- define "envc.podTemplate" -}}
{{- $svc := .svc -}}
metadata:
  labels:
    {{- include "envc.labels.service" . | nindent 4 }}
  {{- with $svc.configHash }}
  annotations:
    envc.dev/config-hash: {{ . | toJson }}
  {{- end }}
spec:
  serviceAccountName: {{ .name }}
  automountServiceAccountToken: false
  enableServiceLinks: false
  {{- if hasKey $svc "terminationGracePeriodSeconds" }}
  terminationGracePeriodSeconds: {{ $svc.terminationGracePeriodSeconds }}
  {{- end }}
  securityContext:
    {{- toYaml $svc.podSecurityContext | nindent 4 }}
  {{- with $svc.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $svc.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if $svc.spreadOverZones }}
  topologySpreadConstraints:
    - maxSkew: 1
      topologyKey: topology.kubernetes.io/zone
      whenUnsatisfiable: DoNotSchedule
      labelSelector:
        matchLabels:
          {{- include "envc.selector" . | nindent 10 }}
    - maxSkew: 1
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: ScheduleAnyway
      labelSelector:
        matchLabels:
          {{- include "envc.selector" . | nindent 10 }}
  {{- end }}
  containers:
    - name: {{ .name }}
      image: {{ $svc.image | toJson }}
      {{- with .root.Values.global.imagePullPolicy }}
      imagePullPolicy: {{ . }}
      {{- end }}
      {{- with $svc.command }}
      command:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $svc.args }}
      args:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $svc.workingDir }}
      workingDir: {{ . | toJson }}
      {{- end }}
      {{- with $svc.ports }}
      ports:
        {{- range . }}
        - name: {{ .name }}
          containerPort: {{ .containerPort }}
          protocol: {{ .protocol }}
        {{- end }}
      {{- end }}
      {{- with $svc.env }}
      env:
        {{- range . }}
        - name: {{ .name }}
          {{- if .secret }}
          valueFrom:
            secretKeyRef:
              {{- include "envc.secretRef" (dict "root" $.root "secret" .secret) | nindent 14 }}
          {{- else }}
          value: {{ .value | toJson }}
          {{- end }}
        {{- end }}
      {{- end }}
      {{- with $svc.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $svc.probes.liveness }}
      livenessProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $svc.probes.readiness }}
      readinessProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $svc.probes.startup }}
      startupProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $svc.containerSecurityContext | nindent 8 }}
      {{- if or $svc.volumes $svc.files }}
      volumeMounts:
        {{- range $svc.volumes }}
        - name: {{ .name }}
          mountPath: {{ .path | toJson }}
        {{- end }}
        {{- range $svc.files }}
        - name: envc-files
          mountPath: {{ .path | toJson }}
          subPath: {{ .name }}
          readOnly: true
        {{- end }}
      {{- end }}
  {{- if include "envc.hasPodVolumes" . }}
  volumes:
    {{- range $svc.volumes }}
    {{- if not .persistent }}
    - name: {{ .name }}
      {{- if .size }}
      emptyDir:
        sizeLimit: {{ .size }}
      {{- else }}
      emptyDir: {}
      {{- end }}
    {{- else if eq $svc.workload "Deployment" }}
    - name: {{ .name }}
      persistentVolumeClaim:
        claimName: {{ printf "%s-%s" $.name .name }}
    {{- end }}
    {{- end }}
    {{- if $svc.files }}
    - name: envc-files
      configMap:
        name: {{ .name }}-files
    {{- end }}
  {{- end }}
{{- end }}

{{/* A PersistentVolumeClaim spec for a volume; the argument is the volume. */}}
{{- define "envc.claimSpec" -}}
accessModes:
  - ReadWriteOnce
{{- with .storageClass }}
storageClassName: {{ . }}
{{- end }}
resources:
  requests:
    storage: {{ .size }}
{{- end }}

{{/* Service ports of a service; the argument is (dict "ports" PORTS "nodePorts" BOOL). */}}
{{- define "envc.servicePorts" -}}
{{- range .ports }}
- name: {{ .name }}
  port: {{ .port }}
  targetPort: {{ .name }}
  protocol: {{ .protocol }}
  {{- with .appProtocol }}
  appProtocol: {{ . }}
  {{- end }}
  {{- if and $.nodePorts .nodePort }}
  nodePort: {{ .nodePort }}
  {{- end }}
{{- end }}
{{- end }}

{{/* A namespace selector for a namespace name. */}}
{{- define "envc.namespaceSelector" -}}
namespaceSelector:
  matchLabels:
    kubernetes.io/metadata.name: {{ . }}
{{- end }}

{{/* NetworkPolicy ports for the named ports of a service (all when none are named); the
argument is (dict "svc" SERVICE "names" NAMES). */}}
{{- define "envc.policyPorts" -}}
{{- range .svc.ports }}
{{- if or (not $.names) (has .name $.names) }}
- port: {{ .name }}
  protocol: {{ .protocol }}
{{- end }}
{{- end }}
{{- end }}
