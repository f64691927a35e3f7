#!/usr/bin/env bash
# Renders the README's screenshots: walks `oidc-onboard --demo` at 80×24 in
# tmux, captures the screen as ANSI at each main step, and turns each capture
# into a PNG with freeze (no browser needed). Needs tmux and curl; run from
# the repository root: bash vhs/screenshots.sh
set -euo pipefail
out=vhs/screens
bin=$(mktemp -d)/oidc-onboard
db=$(mktemp -d)/onboard.db
go build -o "$bin" .
session=oidc-onboard-shots
tmux kill-session -t "$session" 2>/dev/null || true
tmux new-session -d -s "$session" -x 80 -y 24 \
  "TERM=xterm-256color COLORTERM=truecolor OIDC_ONBOARD_DB=$db $bin --demo --redirect-base http://localhost:8976"
trap 'tmux kill-session -t "$session" 2>/dev/null || true' EXIT
tmux set -t "$session" set-clipboard on

keys() { tmux send-keys -t "$session" "$@"; sleep "${pause:-0.6}"; }
shot() {
  sleep 0.5
  tmux capture-pane -e -p -t "$session" > "$out/$1.ansi"
  go run github.com/charmbracelet/freeze@v0.2.2 --language ansi --window=false --padding 20 \
    --font.size 14 --output "$out/$1.png" "$out/$1.ansi" >/dev/null
  rm "$out/$1.ansi"
}

sleep 1.5
keys "Acme Corp" Enter
keys Enter
pause=1.5 keys c            # copy the Redirect URI: the status line confirms it
shot 1-redirect-uri
keys Enter
shot 2-credentials
keys Enter Enter Enter
sleep 2
shot 3-validate
keys Enter
keys c                      # claims: keep the guide's mappings
keys a
keys oidc-admins Tab admin Enter
keys c
pause=2 keys Enter          # start the test login
keys c                      # copy the authorization URL (OSC 52 lands in tmux's buffer)
# Play the browser: sign in on the demo IdP's page, follow back to the callback.
url=$(tmux show-buffer)
jar=$(mktemp)
page=$(curl -s -L -c "$jar" -b "$jar" "$url")
id=$(grep -o 'name="id" value="[^"]*"' <<<"$page" | sed 's/.*value="//;s/"//')
idp=$(sed -E 's#^(https?://[^/]+)/.*#\1#' <<<"$url")
curl -s -L -c "$jar" -b "$jar" -d "id=$id&username=ada&password=demo-password" "$idp/login" >/dev/null
sleep 1
shot 6-test-login
keys Enter
pause=2 keys Enter          # save and activate
shot 7-active
keys q
echo "wrote $out/*.png"
