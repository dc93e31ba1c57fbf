#!/usr/bin/env bash
# A throwaway single-node Slurm cluster in a folder, for the Slurm tests (and for trying `incept sweep --slurm` by
# hand). Needs root and Debian's slurm-wlm and munge (scripts/setup.sh installs them); no systemd, no cgroups.
#
#   single_node_slurm.sh start DIR    starts munged, slurmctld and slurmd with everything (config, keys, sockets,
#                                     state, logs, pid files) inside DIR; prints `export SLURM_CONF=DIR/slurm.conf`
#   single_node_slurm.sh stop DIR     cancels the cluster's jobs, then stops its daemons by the pids in DIR
#
# Exit status of start: 0 running; 3 cannot run here (not root, or Slurm or munge not installed: callers skip);
# 1 anything else (the daemons' logs are printed).
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
(($# == 2)) || usage
action=$1
dir=$(realpath -m "$2")

daemon_pids() {
  local f
  for f in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
    [[ -s $f ]] && cat "$f"
  done
  return 0
}

stop_cluster() {
  [[ -d $dir ]] || return 0
  if [[ -s $dir/slurmctld.pid && -f $dir/slurm.conf ]] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; then
    # Jobs first, so that no job step outlives the daemons that track it.
    SLURM_CONF=$dir/slurm.conf scancel --me --quiet 2>/dev/null || true
    for _ in $(seq 1 40); do
      [[ -z $(SLURM_CONF=$dir/slurm.conf squeue -h --me 2>/dev/null) ]] && break
      sleep 0.5
    done
  fi
  local pid pids=()
  for pid in $(daemon_pids); do kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" && pids+=("$pid"); done
  for _ in $(seq 1 40); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || return 0
    sleep 0.25
  done
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"; done
  return 0
}

# A TCP port nobody listens on (bash's /dev/tcp connects only to a listener).
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
  done
  echo "no free port found" >&2
  return 1
}

fail() {
  echo "single_node_slurm: $*" >&2
  local log
  for log in "$dir"/log/*.log "$dir"/munge/munged.log; do
    [[ -f $log ]] && { echo "--- $log" >&2; tail -n 20 "$log" >&2; }
  done
  stop_cluster
  exit 1
}

start_cluster() {
  if ((EUID != 0)); then echo "single_node_slurm: needs root (slurmd runs jobs as their user)" >&2; exit 3; fi
  local tool
  for tool in munged mungekey slurmctld slurmd sbatch squeue scontrol scancel runuser; do
    command -v "$tool" >/dev/null 2>&1 ||
      { echo "single_node_slurm: $tool not found (bash scripts/setup.sh installs slurm-wlm and munge)" >&2; exit 3; }
  done
  id munge >/dev/null 2>&1 || { echo "single_node_slurm: no user munge (install munge)" >&2; exit 3; }

  mkdir -p "$dir"/{munge,state,spool,log}
  # munged (user munge) must reach its socket: every folder above it must be searchable by others.
  local up=$dir
  while [[ $up != / ]]; do
    up=$(dirname "$up")
    (( 0$(stat -c %a "$up") & 1 )) || fail "folder $up is not searchable by others (chmod o+x, or use another DIR)"
  done
  chmod 755 "$dir" "$dir/munge"
  chown munge:munge "$dir/munge"
  # munged checks that no one else can write where its key, socket and logs live.
  [[ -f $dir/munge/munge.key ]] || runuser -u munge -- mungekey --create --keyfile="$dir/munge/munge.key" ||
    fail "mungekey failed"
  runuser -u munge -- munged --socket="$dir/munge/munge.sock" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" ||
    fail "munged did not start"

  local ctld_port slurmd_port cpus
  ctld_port=$(free_port) || fail "no free port"
  slurmd_port=$(free_port) || fail "no free port"
  ((slurmd_port != ctld_port)) || slurmd_port=$((ctld_port + 1))
  # At least 4 CPUs (config_overrides lets slurmd believe the config), so a few workers run side by side.
  cpus=$(nproc)
  ((cpus >= 4)) || cpus=4
  # cred_expire: a requeued job waits that long before it starts again (default 120 s; the tests wait for it).
  cat >"$dir/slurm.conf" <<EOF
ClusterName=incept-test
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.sock,cred_expire=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
KillWait=15
MinJobAge=600
SlurmdParameters=config_overrides
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF=$dir/slurm.conf
  slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start"
  slurmd -f "$SLURM_CONF" -N localhost || fail "slurmd did not start"
  for _ in $(seq 1 60); do
    if sinfo -h -o %t 2>/dev/null | grep -qx idle; then
      echo "export SLURM_CONF=$SLURM_CONF"
      return 0
    fi
    sleep 0.5
  done
  fail "the node did not become idle within 30 s"
}

case $action in
  start) start_cluster ;;
  stop) stop_cluster ;;
  *) usage ;;
esac
