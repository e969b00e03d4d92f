# Sourced by the service scripts: who holds a TCP port on 127.0.0.1.
# A service script reports "ready" only for a server it started itself; a
# port held by anybody else's process is an error that names that process.

# The pids listening on 127.0.0.1:PORT (or on every address), one a line.
port_pids() {
  { ss -ltnpH "( sport = :$1 )" 2>/dev/null | grep -o "pid=[0-9]*" | cut -d= -f2 | sort -u; } || true
}

# Whether anything accepts connections on 127.0.0.1:PORT.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Dies (through the caller's `die`) when PORT is held by a process that is
# not one of the pids given (empty: none of ours runs).
refuse_foreign_port() {
  local port=$1; shift
  local pids pid ours
  pids=$(port_pids "$port")
  if [ -z "$pids" ]; then
    port_open "$port" || return 0
    die "port $port on 127.0.0.1 is in use by a process this script did not start (not visible here); stop it or choose another port"
  fi
  for pid in $pids; do
    ours=0
    for mine in "$@"; do
      if [ "$pid" = "$mine" ] || [ "$(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$mine" ]; then
        ours=1
      fi
    done
    if [ $ours = 0 ]; then
      die "port $port on 127.0.0.1 is held by pid $pid ($(ps -o comm= -p "$pid" 2>/dev/null || echo '?')), which this script did not start; stop it or choose another port"
    fi
  done
}
