"""What an experienced on-call engineer knows about common alert families.

Each family says how to recognise it (alert names, keywords), what usually
causes it, which read-only checks separate the causes, which registered tools
may help and how their arguments come from the alert's labels, and why a
person still has to look. The engine only ever proposes tools listed here, and
only when the incident carries the evidence the template asks for.

Argument sources are tried in order: ``labels.X`` / ``annotations.X`` read the
alert, ``derived.X`` asks `core.llm.embedded.incident` to compute a value (a
Deployment name from a pod name, a CronJob from a Job), ``=text`` is a literal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.llm.schemas import RiskLevel

LOW, MEDIUM, HIGH, CRITICAL = RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH, RiskLevel.CRITICAL

#: evidence that a change shipped shortly before the alert; rollbacks need it
RECENT_CHANGE = (
    r"\b(rollout|rolled out|deploy(ed|ment of)?|release[ds]?|new version|upgrade[ds]?)\b"
)


@dataclass(frozen=True)
class Cause:
    text: str
    confidence: float


@dataclass(frozen=True)
class ActionTemplate:
    """A registry tool that may help, and where each argument comes from."""

    tool: str
    args: dict[str, tuple[str, ...]]
    risk: RiskLevel
    destructive: bool
    rationale: str
    effect: str
    rollback: str = ""
    #: regexes one of which must occur in the incident text before proposing
    requires: tuple[str, ...] = ()
    #: regexes on the resolved arguments that forbid proposing (e.g. migration jobs)
    never_for: tuple[str, ...] = ()


@dataclass(frozen=True)
class Family:
    key: str
    title: str
    #: regexes matched against the whole alert name, case-insensitively
    alertnames: tuple[str, ...]
    #: lower-case phrases looked for in the alert's text when the name is unknown
    keywords: tuple[str, ...]
    causes: tuple[Cause, ...]
    checks: tuple[str, ...]
    #: how bad acting on this family usually is when no tool is proposed
    risk: RiskLevel
    why_human: str
    worst_case: str
    verification: tuple[str, ...] = ()
    actions: tuple[ActionTemplate, ...] = field(default=())


_NAME = ("labels.deployment", "derived.deployment", "labels.service")
_NS = ("labels.namespace", "labels.exported_namespace")


def _rollback(requires: tuple[str, ...] = (RECENT_CHANGE,)) -> ActionTemplate:
    return ActionTemplate(
        tool="rollback_deployment",
        args={"name": _NAME, "namespace": _NS},
        risk=MEDIUM,
        destructive=True,
        rationale="the symptoms began with a rollout; the previous ReplicaSet is known good",
        effect="pods return to the previous revision and the symptom stops",
        rollback="kubectl rollout undo again (to the newer revision) once it is fixed",
        requires=requires,
    )


FAMILIES: tuple[Family, ...] = (
    Family(
        key="watchdog",
        title="Alerting pipeline heartbeat",
        alertnames=(r"Watchdog", r"InfoInhibitor", r"DeadMansSwitch"),
        keywords=("dead man's switch", "deadmansswitch"),
        causes=(Cause("the always-firing heartbeat of the alerting pipeline; not a fault", 0.95),),
        checks=("amtool alert query alertname=Watchdog",),
        risk=LOW,
        why_human="",
        worst_case="none: silencing it only blinds the heartbeat monitor",
    ),
    Family(
        key="etcd",
        title="etcd cluster health",
        alertnames=(r"etcd.*",),
        keywords=("etcd", "leader election", "raft", "no leader"),
        causes=(
            Cause("slow disk fsync makes members miss heartbeats", 0.45),
            Cause("network latency or loss between members", 0.35),
            Cause("a member is down and quorum is at risk", 0.2),
        ),
        checks=(
            "etcdctl endpoint status --cluster -w table",
            "histogram_quantile(0.99, rate(etcd_disk_wal_fsync_duration_seconds_bucket[5m]))",
            "etcdctl endpoint health --cluster",
        ),
        risk=CRITICAL,
        why_human="the control plane's store; any wrong move loses the cluster state",
        worst_case="quorum loss: the API server becomes read-only or unavailable",
    ),
    Family(
        key="apiserver",
        title="Kubernetes API server errors",
        alertnames=(r"KubeAPI.*", r"KubeClientErrors", r"KubeAggregatedAPI.*"),
        keywords=("apiserver", "api server"),
        causes=(
            Cause("the API server is overloaded (expensive LIST calls, controllers)", 0.4),
            Cause("etcd latency propagates to API requests", 0.35),
            Cause("an aggregated API or admission webhook fails", 0.25),
        ),
        checks=(
            'sum by (code, verb) (rate(apiserver_request_total{{code=~"5.."}}[5m]))',
            "kubectl get apiservices | grep -v True",
            "kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations",
        ),
        risk=HIGH,
        why_human="control-plane changes affect every workload",
        worst_case="controllers stop reconciling and deployments freeze",
    ),
    Family(
        key="dns",
        title="DNS failures",
        alertnames=(r"CoreDNS.*", r".*DNS.*", r"KubeDNS.*"),
        keywords=("dns", "nxdomain", "servfail", "name resolution", "no such host"),
        causes=(
            Cause("upstream resolvers time out (forward plugin)", 0.4),
            Cause("CoreDNS pods are overloaded or throttled", 0.35),
            Cause("conntrack table full on nodes drops UDP", 0.25),
        ),
        checks=(
            "kubectl -n kube-system logs deploy/coredns --tail=100",
            "sum by (rcode) (rate(coredns_dns_responses_total[5m]))",
            "kubectl run -it --rm dnscheck --image=busybox --restart=Never -- nslookup kubernetes",
        ),
        risk=HIGH,
        why_human="DNS is cluster-wide; a restart during an upstream outage changes nothing",
        worst_case="every service in the cluster fails name lookups",
        actions=(
            ActionTemplate(
                tool="restart_deployment",
                args={"name": ("=coredns",), "namespace": ("=kube-system",)},
                risk=HIGH,
                destructive=True,
                rationale="CoreDNS pods report errors while upstream resolvers answer",
                effect="fresh CoreDNS pods with empty caches",
                requires=(r"coredns.*(panic|loop|stuck|wedged|oom)",),
            ),
        ),
    ),
    Family(
        key="pod_crashloop",
        title="Pod crash looping",
        alertnames=(r"KubePodCrashLooping", r".*CrashLoop.*"),
        keywords=("crashloopbackoff", "back-off restarting", "crash looping", "crashloop"),
        causes=(
            Cause("the new version crashes at start-up (bad build, config or migration)", 0.45),
            Cause("a dependency checked at start-up (database, secret, config) is missing", 0.3),
            Cause("the liveness probe kills a slow-starting container", 0.15),
        ),
        checks=(
            "kubectl -n {namespace} describe pod {pod}",
            "kubectl -n {namespace} logs {pod} -c {container} --previous --tail=100",
            "kubectl -n {namespace} rollout history deployment/{deployment}",
            "kubectl -n {namespace} get events --field-selector involvedObject.name={pod}",
        ),
        risk=MEDIUM,
        why_human="restarting does not fix a crash loop; only the logs tell code from config",
        worst_case="a rollback across a schema migration breaks the older version too",
        verification=(
            'kube_pod_container_status_waiting_reason{{reason="CrashLoopBackOff",'
            'namespace="{namespace}"}} == 0',
        ),
        actions=(_rollback(),),
    ),
    Family(
        key="image_pull",
        title="Image cannot be pulled",
        alertnames=(r".*ImagePull.*", r"KubeContainerWaiting"),
        keywords=("imagepullbackoff", "errimagepull", "manifest unknown", "pull access denied"),
        causes=(
            Cause("the rollout references a tag that was never pushed", 0.5),
            Cause("registry credentials (imagePullSecret) expired or missing", 0.3),
            Cause("the registry is unreachable or rate-limiting pulls", 0.2),
        ),
        checks=(
            "kubectl -n {namespace} describe pod {pod}",
            "kubectl -n {namespace} get deployment {deployment} -o jsonpath='{{..image}}'",
            "kubectl -n {namespace} get secret -o name | grep -i pull",
        ),
        risk=MEDIUM,
        why_human="the old pods still serve; whether to roll back or push the tag is a choice",
        worst_case="rolling back over a config change that the old image cannot read",
        actions=(_rollback((RECENT_CHANGE, r"manifest unknown", r"\btag\b", r"not found")),),
    ),
    Family(
        key="pod_not_ready",
        title="Pod not ready",
        alertnames=(r"KubePodNotReady", r"KubernetesPodNotHealthy"),
        keywords=("readiness probe failed", "pod not ready", "not ready for longer"),
        causes=(
            Cause("the readiness probe fails because a dependency is slow or down", 0.4),
            Cause("the pod is stuck pending: no node fits its requests or volume", 0.35),
            Cause("the process is wedged (deadlock, exhausted thread pool)", 0.25),
        ),
        checks=(
            "kubectl -n {namespace} describe pod {pod}",
            "kubectl -n {namespace} get pod {pod} -o wide",
            "kubectl -n {namespace} logs {pod} --tail=100",
        ),
        risk=MEDIUM,
        why_human="deleting a pod that is pending for lack of capacity changes nothing",
        worst_case="deleting the last ready replica takes the service down",
        actions=(
            ActionTemplate(
                tool="delete_pod",
                args={"name": ("labels.pod",), "namespace": _NS},
                risk=MEDIUM,
                destructive=True,
                rationale="a wedged pod whose siblings are ready is replaced by its controller",
                effect="the controller schedules a fresh pod",
                requires=(r"\bwedged\b", r"\bhung\b", r"\bdeadlock", r"\bstuck\b"),
            ),
        ),
    ),
    Family(
        key="deployment_replicas",
        title="Deployment replicas mismatch or rollout stuck",
        alertnames=(
            r"KubeDeploymentReplicasMismatch",
            r"KubeDeploymentRolloutStuck",
            r"KubeDeploymentGenerationMismatch",
        ),
        keywords=("replicas mismatch", "rollout stuck", "progressdeadlineexceeded"),
        causes=(
            Cause("new pods fail readiness so the rollout cannot progress", 0.45),
            Cause("not enough schedulable capacity (requests, quotas, affinity)", 0.35),
            Cause("a PodDisruptionBudget or admission webhook blocks new pods", 0.2),
        ),
        checks=(
            "kubectl -n {namespace} rollout status deployment/{deployment} --timeout=10s",
            "kubectl -n {namespace} get rs -l app={deployment}",
            "kubectl -n {namespace} get events --sort-by=.lastTimestamp | tail -30",
        ),
        risk=MEDIUM,
        why_human="capacity and readiness failures look alike from the replica count alone",
        worst_case="a rollback that also fails leaves fewer ready replicas than before",
        actions=(_rollback(),),
    ),
    Family(
        key="statefulset_replicas",
        title="StatefulSet replicas mismatch",
        alertnames=(r"KubeStatefulSet.*",),
        keywords=("statefulset",),
        causes=(
            Cause("a member cannot attach its volume (zone, stuck attachment)", 0.4),
            Cause("the new revision fails readiness and the ordered rollout halts", 0.4),
            Cause("the cluster (database, quorum) refuses the member", 0.2),
        ),
        checks=(
            "kubectl -n {namespace} describe statefulset {statefulset}",
            "kubectl -n {namespace} get pods -l app={statefulset} -o wide",
            "kubectl -n {namespace} get pvc",
        ),
        risk=HIGH,
        why_human="stateful members hold data and quorum; order and identity matter",
        worst_case="deleting members of a quorum system loses writes or splits the cluster",
    ),
    Family(
        key="oom_killed",
        title="Container killed for exceeding its memory limit",
        alertnames=(r".*OOMKill.*", r"ContainerOOM.*", r"KubernetesContainerOomKiller"),
        keywords=("oomkilled", "oom killed", "out of memory", "oom-kill"),
        causes=(
            Cause("the memory limit is below the working set after growth in traffic", 0.4),
            Cause("a memory leak in the current version", 0.35),
            Cause("a single oversized request or batch", 0.25),
        ),
        checks=(
            "kubectl -n {namespace} describe pod {pod}",
            'max_over_time(container_memory_working_set_bytes{{namespace="{namespace}",'
            'pod="{pod}"}}[6h])',
            "kubectl -n {namespace} get pod {pod} -o jsonpath='{{..resources}}'",
        ),
        risk=MEDIUM,
        why_human="raising a limit and fixing a leak are different changes; a person picks",
        worst_case="higher limits move the OOM to the node and evict neighbours",
        actions=(_rollback(),),
    ),
    Family(
        key="restart_rate",
        title="Containers restarting often",
        alertnames=(r".*Restart.*",),
        keywords=("restarting", "restarts", "restart count"),
        causes=(
            Cause("the liveness probe is too strict for the current load", 0.35),
            Cause("the process crashes intermittently (panic, unhandled error)", 0.35),
            Cause("memory limit reached periodically", 0.3),
        ),
        checks=(
            "kubectl -n {namespace} get pod {pod} -o jsonpath='{{..lastState}}'",
            "kubectl -n {namespace} logs {pod} --previous --tail=100",
            'increase(kube_pod_container_status_restarts_total{{namespace="{namespace}"}}[1h])',
        ),
        risk=MEDIUM,
        why_human="the last termination reason decides between probe, crash and memory",
        worst_case="restarts hide data loss when the process dies mid-write",
        actions=(_rollback(),),
    ),
    Family(
        key="cpu_throttling",
        title="CPU throttling",
        alertnames=(r"CPUThrottlingHigh", r".*Throttl.*"),
        keywords=("cpu throttling", "throttled"),
        causes=(
            Cause("the CPU limit is below the container's bursts", 0.6),
            Cause("a busy neighbour thread pool (GC, compression) in the same container", 0.25),
        ),
        checks=(
            'rate(container_cpu_cfs_throttled_periods_total{{namespace="{namespace}",'
            'pod="{pod}"}}[5m]) / rate(container_cpu_cfs_periods_total{{namespace='
            '"{namespace}",pod="{pod}"}}[5m])',
            "kubectl -n {namespace} get pod {pod} -o jsonpath='{{..resources}}'",
        ),
        risk=LOW,
        why_human="",
        worst_case="latency rises under load until the limit is tuned",
    ),
    Family(
        key="hpa_maxed",
        title="HPA at its maximum",
        alertnames=(r"KubeHpaMaxedOut", r"KubeHpaReplicasMismatch"),
        keywords=("maxreplicas", "max replicas", "horizontalpodautoscaler"),
        causes=(
            Cause("traffic grew beyond the capacity planned for maxReplicas", 0.5),
            Cause("each pod got slower (dependency, regression) so more are needed", 0.35),
            Cause("the target metric is misconfigured or noisy", 0.15),
        ),
        checks=(
            "kubectl -n {namespace} describe hpa {horizontalpodautoscaler}",
            'sum(rate(http_requests_total{{namespace="{namespace}"}}[5m]))',
        ),
        risk=MEDIUM,
        why_human="raising maxReplicas is a capacity and cost decision; scaling by hand "
        "is undone by the HPA",
        worst_case="more replicas overload the shared database",
    ),
    Family(
        key="pvc_filling",
        title="Persistent volume filling up",
        alertnames=(
            r"KubePersistentVolumeFillingUp",
            r"KubePersistentVolume.*",
            r".*PVC.*(Full|Filling).*",
        ),
        keywords=("persistent volume", "persistentvolumeclaim", "pvc"),
        causes=(
            Cause("data growth the volume was not sized for", 0.45),
            Cause("logs, WAL or temp files not rotated or archived", 0.4),
            Cause("a stuck replication slot or backup keeps old segments", 0.15),
        ),
        checks=(
            'kubelet_volume_stats_available_bytes{{namespace="{namespace}",'
            'persistentvolumeclaim="{persistentvolumeclaim}"}}',
            "kubectl -n {namespace} exec {pod} -- du -xh --max-depth=2 /",
            "kubectl -n {namespace} get pvc {persistentvolumeclaim} -o yaml",
        ),
        risk=HIGH,
        why_human="deleting data or growing a volume cannot be undone",
        worst_case="a full volume corrupts or stops the database that owns it",
        actions=(
            ActionTemplate(
                tool="expand_pvc",
                args={"name": ("labels.persistentvolumeclaim",), "namespace": _NS},
                risk=HIGH,
                destructive=True,
                rationale="the volume's storage class allows expansion and the growth is real",
                effect="more free space on the volume without moving data",
                requires=(r"allowvolumeexpansion",),
            ),
        ),
    ),
    Family(
        key="node_filesystem",
        title="Node filesystem filling up",
        alertnames=(
            r"NodeFilesystem.*",
            r"HostOutOfDiskSpace",
            r"HostDiskWillFillIn.*",
            r".*DiskSpace.*",
            r"DiskFull",
        ),
        keywords=("disk full", "no space left", "filesystem", "disk space"),
        causes=(
            Cause("container logs or images accumulate on the node", 0.45),
            Cause("a runaway process writes to local disk (core dumps, temp files)", 0.35),
            Cause("journald or system logs not rotated", 0.2),
        ),
        checks=(
            'node_filesystem_avail_bytes{{instance="{instance}",mountpoint="{mountpoint}"}}',
            "df -h {mountpoint} && du -xh --max-depth=2 {mountpoint} | sort -h | tail",
            "crictl images | wc -l ; journalctl --disk-usage",
        ),
        risk=MEDIUM,
        why_human="what may be deleted on a node is a judgement about whose files they are",
        worst_case="the kubelet evicts every pod on the node at the hard threshold",
    ),
    Family(
        key="node_not_ready",
        title="Node not ready",
        alertnames=(
            r"KubeNodeNotReady",
            r"KubeNodeUnreachable",
            r"KubeletDown",
            r"KubernetesNodeReady",
        ),
        keywords=("node not ready", "nodenotready", "kubelet stopped posting"),
        causes=(
            Cause("the kubelet or container runtime stopped (crash, disk, certificate)", 0.4),
            Cause("the node lost network to the control plane", 0.35),
            Cause("the machine is gone (preempted, hardware fault)", 0.25),
        ),
        checks=(
            "kubectl describe node {node}",
            "kubectl get pods -A --field-selector spec.nodeName={node} -o wide",
            'up{{job="kubelet",node="{node}"}}',
        ),
        risk=MEDIUM,
        why_human="cordoning is safe, but moving stateful pods off a node needs a person",
        worst_case="a network partition heals after pods were force-moved: two writers",
        actions=(
            ActionTemplate(
                tool="cordon_node",
                args={"node": ("labels.node", "derived.node")},
                risk=MEDIUM,
                destructive=False,
                rationale="no new pods should land on a node that stopped reporting",
                effect="the scheduler avoids the node; running pods are untouched",
                rollback="kubectl uncordon {node}",
            ),
        ),
    ),
    Family(
        key="node_memory_pressure",
        title="Node memory pressure",
        alertnames=(r".*MemoryPressure.*", r"HostOutOfMemory", r"NodeMemory.*"),
        keywords=("memory pressure", "low memory", "available memory"),
        causes=(
            Cause("pods without memory limits grow beyond the node's capacity", 0.45),
            Cause("overcommitment: limits far above requests across the node", 0.35),
            Cause("a system daemon leaks memory", 0.2),
        ),
        checks=(
            "kubectl describe node {node} | grep -A8 Conditions",
            'topk(10, sum by (pod) (container_memory_working_set_bytes{{node="{node}"}}))',
        ),
        risk=HIGH,
        why_human="evictions pick victims by priority; a person decides what may die",
        worst_case="the kernel OOM killer stops the kubelet itself",
    ),
    Family(
        key="high_load",
        title="High CPU load on a host",
        alertnames=(
            r"NodeLoad.*",
            r"HostHighCpuLoad",
            r"NodeCPUHighUsage",
            r"HighLoad",
            r".*HighCpu.*",
        ),
        keywords=("load average", "high cpu", "cpu usage"),
        causes=(
            Cause("legitimate traffic peak on the services of this host", 0.4),
            Cause("one runaway process (busy loop, crypto-miner, backup compression)", 0.35),
            Cause("iowait counted as load on a saturated disk", 0.25),
        ),
        checks=(
            "top -b -n1 | head -20",
            'sum by (mode) (rate(node_cpu_seconds_total{{instance="{instance}"}}[5m]))',
        ),
        risk=MEDIUM,
        why_human="killing processes on a host needs to know which one and whose",
        worst_case="sustained saturation times out health checks and cascades",
    ),
    Family(
        key="disk_io",
        title="Disk IO saturation",
        alertnames=(r".*DiskIO.*", r"HostUnusualDisk.*", r".*IOWait.*", r"NodeDiskIOSaturation"),
        keywords=("iowait", "io saturation", "disk latency", "disk io"),
        causes=(
            Cause("a batch job or compaction saturates the disk", 0.45),
            Cause("the volume's IOPS/throughput quota is exhausted (cloud burst credits)", 0.35),
            Cause("a failing disk retries reads", 0.2),
        ),
        checks=(
            "iostat -x 1 5",
            'rate(node_disk_io_time_seconds_total{{instance="{instance}"}}[5m])',
        ),
        risk=MEDIUM,
        why_human="throttling the culprit or moving it is a trade-off between workloads",
        worst_case="databases on the same disk stall and time out",
    ),
    Family(
        key="target_down",
        title="Scrape target down",
        alertnames=(r"TargetDown", r"InstanceDown", r".*ExporterDown", r"PrometheusTargetMissing"),
        keywords=("target down", "up == 0", "scrape failed"),
        causes=(
            Cause("the target process or pod is down", 0.45),
            Cause("a network policy or port change blocks the scrape", 0.3),
            Cause("the service discovery labels changed and the target moved", 0.25),
        ),
        checks=(
            'up{{job="{job}"}} == 0',
            "kubectl -n {namespace} get endpoints {service}",
            "curl -s http://<target>/metrics | head",
        ),
        risk=MEDIUM,
        why_human="monitoring blind spots hide the real impact; check the service itself",
        worst_case="a real outage behind a 'monitoring only' alert",
    ),
    Family(
        key="http_errors",
        title="HTTP 5xx error rate high",
        alertnames=(
            r".*5xx.*",
            r".*ErrorRate.*",
            r".*HighError.*",
            r".*ErrorBudget.*",
            r".*ErrorsHigh",
        ),
        keywords=("5xx", "error rate", "internal server error", "502", "503", "bad gateway"),
        causes=(
            Cause("a recent rollout introduced a regression", 0.45),
            Cause("a dependency (database, upstream API) fails or times out", 0.35),
            Cause("overload: pods shed requests or crash under traffic", 0.2),
        ),
        checks=(
            'sum by (code) (rate(http_requests_total{{namespace="{namespace}",'
            'service="{service}"}}[5m]))',
            "kubectl -n {namespace} rollout history deployment/{deployment}",
            "kubectl -n {namespace} logs deploy/{deployment} --since=15m | grep -i error | tail",
        ),
        risk=HIGH,
        why_human="users are affected; rollback versus dependency fix is a call for a person",
        worst_case="rolling back a release that carried a forward-only migration",
        actions=(
            ActionTemplate(
                tool="rollback_deployment",
                args={"name": _NAME, "namespace": _NS},
                risk=HIGH,
                destructive=True,
                rationale="errors started with the rollout; the previous revision served cleanly",
                effect="error rate returns to the pre-release baseline",
                rollback="roll forward once the regression is fixed",
                requires=(RECENT_CHANGE,),
            ),
        ),
    ),
    Family(
        key="latency",
        title="High request latency",
        alertnames=(r".*Latency.*", r".*SlowRequests.*", r".*ResponseTime.*"),
        keywords=("latency", "p99", "p95", "slow responses", "slow requests"),
        causes=(
            Cause("a slow dependency (database query, upstream call)", 0.45),
            Cause("saturation: CPU throttling, thread pool or connection pool exhausted", 0.35),
            Cause("a regression in the latest release", 0.2),
        ),
        checks=(
            "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket"
            '{{service="{service}"}}[5m])))',
            "kubectl -n {namespace} top pods",
        ),
        risk=MEDIUM,
        why_human="latency has many owners; the trace decides which",
        worst_case="timeouts upstream turn slowness into errors and retries storms",
    ),
    Family(
        key="cert_expiry",
        title="Certificate expiring",
        alertnames=(r".*Cert.*Expir.*", r".*Certificate.*", r"X509.*", r".*SSL.*", r".*TLS.*"),
        keywords=("certificate", "x509", "tls", "expires in"),
        causes=(
            Cause("cert-manager renewal failed (ACME challenge, DNS, rate limit)", 0.5),
            Cause("the certificate is managed by hand and nobody renewed it", 0.3),
            Cause("the issuer's credentials expired", 0.2),
        ),
        checks=(
            "kubectl -n {namespace} describe certificate {certificate}",
            "kubectl -n {namespace} get certificaterequest,order,challenge",
            "echo | openssl s_client -connect <host>:443 2>/dev/null | openssl x509 -noout -dates",
        ),
        risk=LOW,
        why_human="",
        worst_case="clients refuse the endpoint at expiry",
        verification=("kubectl -n {namespace} get certificate {certificate}",),
        actions=(
            ActionTemplate(
                tool="renew_certificate",
                args={
                    "certificate": ("labels.certificate", "labels.name", "labels.secret_name"),
                    "namespace": _NS,
                },
                risk=LOW,
                destructive=False,
                rationale="asking cert-manager to renew early is idempotent and keeps the key",
                effect="a fresh certificate is issued and the secret updated",
            ),
        ),
    ),
    Family(
        key="job_failed",
        title="Job failed",
        alertnames=(
            r"KubeJobFailed",
            r"KubeJobNotCompleted",
            r"KubeCronJob.*",
            r"KubeJobCompletion",
        ),
        keywords=("job failed", "backofflimitexceeded", "job did not complete"),
        causes=(
            Cause("a transient dependency failure during the run", 0.45),
            Cause("the job's input or schema changed", 0.35),
            Cause("the job hit its activeDeadlineSeconds or resources", 0.2),
        ),
        checks=(
            "kubectl -n {namespace} describe job {job_name}",
            "kubectl -n {namespace} logs job/{job_name} --tail=100",
        ),
        risk=LOW,
        why_human="",
        worst_case="a non-idempotent job run twice (double billing, duplicate mail)",
        actions=(
            ActionTemplate(
                tool="rerun_job",
                args={"cronjob": ("labels.cronjob", "derived.cronjob"), "namespace": _NS},
                risk=LOW,
                destructive=False,
                rationale="a periodic idempotent job failed once; a fresh run from its CronJob "
                "is the usual fix",
                effect="a new Job from the CronJob template runs now",
                never_for=(
                    r"migrat",
                    r"schema",
                    r"backfill",
                    r"purge",
                    r"delete",
                    r"billing",
                    r"invoice",
                    r"payout",
                ),
            ),
        ),
    ),
    Family(
        key="db_connections",
        title="Database connections exhausted",
        alertnames=(
            r".*TooManyConnections.*",
            r".*Connections(Exhausted|High|Limit).*",
            r"PgBouncer.*",
        ),
        keywords=(
            "too many connections",
            "remaining connection slots",
            "connection pool exhausted",
            "max_connections",
        ),
        causes=(
            Cause("a client leaks connections (no pooling, missing close)", 0.45),
            Cause("scaling up a deployment multiplied its pool size", 0.35),
            Cause("long-running queries hold connections", 0.2),
        ),
        checks=(
            "SELECT usename, application_name, state, count(*) FROM pg_stat_activity "
            "GROUP BY 1,2,3 ORDER BY 4 DESC;",
            "SHOW max_connections;",
            'pg_stat_activity_count{{instance="{instance}"}}',
        ),
        risk=HIGH,
        why_human="terminating sessions or restarting clients must target the leaking one",
        worst_case="killing the wrong sessions aborts in-flight transactions",
    ),
    Family(
        key="replication_lag",
        title="Replication lag",
        alertnames=(r".*Replication.*", r".*ReplicaLag.*", r".*SlaveLag.*"),
        keywords=("replication lag", "replica lag", "behind the primary", "seconds_behind_master"),
        causes=(
            Cause("a large write or long transaction on the primary", 0.4),
            Cause("the replica's disk or CPU cannot keep up with replay", 0.35),
            Cause("network between primary and replica is degraded", 0.25),
        ),
        checks=(
            "SELECT now() - pg_last_xact_replay_timestamp();",
            "SELECT * FROM pg_stat_replication;",
            'pg_replication_lag{{instance="{instance}"}}',
        ),
        risk=HIGH,
        why_human="reads from a lagging replica are stale; failover decisions are human",
        worst_case="a failover to a lagging replica loses committed writes",
    ),
    Family(
        key="queue_backlog",
        title="Queue backlog / consumer lag",
        alertnames=(
            r".*ConsumerLag.*",
            r".*ConsumerGroupLag.*",
            r".*QueueBacklog.*",
            r"Rabbitmq.*Messages.*",
            r".*QueueDepth.*",
            r"Kafka.*Lag.*",
        ),
        keywords=("consumer lag", "backlog", "queue depth", "messages ready"),
        causes=(
            Cause("consumers are too few or too slow for the current inflow", 0.4),
            Cause("a poison message makes consumers fail and retry", 0.35),
            Cause("consumers are down or partitions unassigned after a rebalance", 0.25),
        ),
        checks=(
            "kafka-consumer-groups --bootstrap-server <broker> --describe --group {consumergroup}",
            'sum by (partition) (kafka_consumergroup_lag{{consumergroup="{consumergroup}"}})',
            "kubectl -n {namespace} logs deploy/{deployment} --tail=100",
        ),
        risk=MEDIUM,
        why_human="more consumers do not help against a poison message; logs first",
        worst_case="the backlog outgrows retention and messages are lost",
    ),
    Family(
        key="clock_skew",
        title="Clock skew",
        alertnames=(r".*ClockSkew.*", r"NodeClockNotSynchronising", r".*TimeDrift.*", r".*Ntp.*"),
        keywords=("clock skew", "ntp", "time drift", "not synchronising", "chrony"),
        causes=(
            Cause("chronyd/ntpd stopped or cannot reach its servers", 0.55),
            Cause("a VM resumed from suspension with a stale clock", 0.25),
            Cause("a hardware clock fault", 0.2),
        ),
        checks=(
            "chronyc tracking && chronyc sources -v",
            'node_timex_offset_seconds{{instance="{instance}"}}',
            "timedatectl status",
        ),
        risk=MEDIUM,
        why_human="stepping a clock under running databases and TLS can break both",
        worst_case="certificates and tokens rejected, distributed locks broken",
    ),
    Family(
        key="packet_loss",
        title="Network errors or packet loss",
        alertnames=(
            r"NodeNetwork.*Err.*",
            r".*PacketLoss.*",
            r"HostNetwork.*Err.*",
            r".*Network.*Drop.*",
        ),
        keywords=("packet loss", "dropped packets", "retransmit", "network errors"),
        causes=(
            Cause("a faulty NIC, cable or switch port", 0.4),
            Cause("MTU mismatch on an overlay network", 0.35),
            Cause("ring buffers overflow under traffic bursts", 0.25),
        ),
        checks=(
            "ip -s link show {device}",
            'rate(node_network_receive_errs_total{{instance="{instance}"}}[5m])',
            "ethtool -S {device} | grep -iE 'drop|err'",
        ),
        risk=HIGH,
        why_human="hardware and fabric faults need the network team",
        worst_case="silent data corruption or partitions between replicas",
    ),
    Family(
        key="quota",
        title="Namespace resource quota",
        alertnames=(r"KubeQuota.*",),
        keywords=("resourcequota", "quota exceeded"),
        causes=(
            Cause("the namespace grew beyond its planned quota", 0.6),
            Cause("leftover pods or PVCs from old releases count against it", 0.4),
        ),
        checks=("kubectl -n {namespace} describe resourcequota",),
        risk=LOW,
        why_human="",
        worst_case="new pods are refused at the next scale-up",
    ),
)
