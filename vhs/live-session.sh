#!/usr/bin/env bash
# Plays the customers for the live-session demo: builds oidc-onboard, starts
# `serve --demo` on loopback and two customers' SSH sessions in background
# tmux sessions (Acme Corp at the credentials step, Globex at the Redirect
# URI), and says yes when an engineer asks to see Acme's screen. The engineer
# is played by whoever runs `ssh -p 55570 -i $state/key alice@127.0.0.1`:
# vhs/joined-session.tape records that, `shot` renders the engineer's live
# list to vhs/screens/live-list.png with freeze. Needs tmux and ssh; run from
# the repository root:
#   bash vhs/live-session.sh start|shot|stop
set -euo pipefail
state=${TMPDIR:-/tmp}/oidc-onboard-live
port=55570
ssh_opts=(-F none -p "$port" -o StrictHostKeyChecking=no -o "UserKnownHostsFile=$state/known_hosts"
  -o IdentitiesOnly=yes -o LogLevel=ERROR)

panes() { tmux list-sessions -F '#S' 2>/dev/null | grep '^oidc-live-' || true; }

stop() {
  for s in $(panes); do tmux kill-session -t "$s"; done
  if [[ -f $state/consent.pid ]]; then kill "$(cat "$state/consent.pid")" 2>/dev/null || true; fi
  rm -rf "$state"
}

# wait_for SESSION TEXT waits until the tmux session's screen shows TEXT.
wait_for() {
  for _ in $(seq 100); do
    tmux capture-pane -p -t "$1" 2>/dev/null | grep -qF "$2" && return 0
    sleep 0.1
  done
  echo "$1 never showed: $2" >&2
  tmux capture-pane -p -t "$1" >&2
  return 1
}

# customer NAME ORG CONNECTION STEPS LABEL connects a customer of ORG with a
# new invite labelled LABEL and walks them forward: STEPS times enter after
# naming CONNECTION.
customer() {
  local code
  code=$("$state/oidc-onboard" invite --db "$state/onboard.db" --org "$2" --label "$5" --json | sed -n 's/.*"code": *"\([^"]*\)".*/\1/p')
  tmux new-session -d -s "oidc-live-$1" -x 80 -y 24 \
    "TERM=xterm-256color COLORTERM=truecolor ssh -t ${ssh_opts[*]} $code@127.0.0.1"
  wait_for "oidc-live-$1" "Start: Organization"
  tmux send-keys -t "oidc-live-$1" "$3" Enter
  wait_for "oidc-live-$1" "Step 1 of 7"
  for _ in $(seq "$4"); do tmux send-keys -t "oidc-live-$1" Enter; sleep 0.5; done
}

start() {
  stop
  mkdir -p "$state"
  go build -o "$state/oidc-onboard" .
  ssh-keygen -q -t ed25519 -N "" -C alice -f "$state/key"
  tmux new-session -d -s oidc-live-serve -x 120 -y 30 \
    "$state/oidc-onboard serve --demo --db $state/onboard.db --ssh-addr 127.0.0.1:$port --http-addr 127.0.0.1:55571 --authorized-keys $state/key.pub 2>$state/serve.log"
  wait_for oidc-live-serve "Make an invite"
  customer acme "Acme Corp" "Acme SSO" 1 "Jane at Acme IT"
  customer globex "Globex" "Globex OIDC" 0 "Globex identity team"
  # Acme's admin says yes to a support engineer who asks to watch, and
  # goes on to the validation a few seconds later, watched.
  (while sleep 0.3; do
    if tmux capture-pane -p -t oidc-live-acme 2>/dev/null | grep -q "wants to see your screen: y/n"; then
      tmux send-keys -t oidc-live-acme y
      sleep 4
      tmux send-keys -t oidc-live-acme Enter Enter Enter
      break
    fi
  done) >/dev/null 2>&1 &
  echo $! >"$state/consent.pid"
}

shot() {
  start
  tmux new-session -d -s oidc-live-engineer -x 80 -y 24 \
    "TERM=xterm-256color COLORTERM=truecolor ssh -t ${ssh_opts[*]} -i $state/key alice@127.0.0.1"
  wait_for oidc-live-engineer "customers are in the wizard now"
  tmux send-keys -t oidc-live-engineer l
  wait_for oidc-live-engineer "Globex · Globex identity team"
  sleep 2 # a few refreshes: the times move
  tmux capture-pane -e -p -t oidc-live-engineer >"$state/live-list.ansi"
  go run github.com/charmbracelet/freeze@v0.2.2 --language ansi --window=false --padding 20 \
    --font.size 14 --output vhs/screens/live-list.png "$state/live-list.ansi" >/dev/null
  stop
  echo "wrote vhs/screens/live-list.png"
}

"${1:?start, shot or stop}"
