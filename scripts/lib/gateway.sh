# The web gateway beside the stack (sourced after scripts/lib/stack.sh; used by
# scripts/demo and scripts/tests/gateway-browser): a node's HTTPS site
# (tools/node_site.py with the certificate `onebz cert` makes from the node's key), the
# gateway's own certificate, and onebz-web resolving through onebzd with onebzd's DS as
# its only trust anchor (docs/gateway.md, "onebz-web, the web gateway").
#   gateway_certificate DIR DOMAIN            # sets gateway_ca, gateway_cert, gateway_key
#   spki_sha256 CERT                          # base64 SHA-256 of CERT's SubjectPublicKeyInfo
#   start_node_site NAME KEY PORT LABEL DIR [NODE_ID]   # $site_LABEL_pid
#   wait_tlsa NAME PORT DNS_PORT              # until onebzd serves _PORT._tcp.NAME TLSA
#   start_web_gateway PORT DOMAIN DNS_PORT ANCHOR [ONEBZ_WEB_ARGS...]   # $onebz_web_pid
# Needs: openssl, curl, dig, python3; $bin_dir (build_binaries) and $top.

# gateway_certificate DIR DOMAIN: the certificate onebz-web presents for `*.DOMAIN` and
# `DOMAIN`, signed by a local CA (the PEM a client must trust: $gateway_ca). Both keys are
# kept across runs, so a browser or curl told to trust them keeps working; the leaf is
# reissued when missing, for another domain, or within a day of expiry. This is the one
# step an ACME client (DNS-01 through RFC 2136 against a local Pebble) would replace.
gateway_certificate() {
  local dir=$1 domain=$2 ca_key=$1/gateway-ca-key.pem
  gateway_ca=$dir/gateway-ca.pem gateway_cert=$dir/gateway-cert.pem gateway_key=$dir/gateway-key.pem
  mkdir -p "$dir"
  if [ ! -s "$gateway_ca" ] || [ ! -s "$ca_key" ]; then
    (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -subj "/CN=onebz demo gateway CA" -keyout "$ca_key" -out "$gateway_ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null) \
      || { log "openssl could not make the gateway CA in $dir"; exit 1; }
    rm -f "$gateway_cert"
  fi
  if [ -s "$gateway_cert" ] && [ -s "$gateway_key" ] \
    && openssl x509 -in "$gateway_cert" -noout -checkend 86400 >/dev/null 2>&1 \
    && openssl x509 -in "$gateway_cert" -noout -checkhost "x.$domain" 2>/dev/null | grep -q "does match" \
    && openssl verify -CAfile "$gateway_ca" "$gateway_cert" >/dev/null 2>&1; then
    return 0
  fi
  [ -s "$gateway_key" ] || (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$gateway_key")
  local csr=$dir/gateway.csr ext=$dir/gateway.ext
  openssl req -new -key "$gateway_key" -subj "/CN=*.$domain" -out "$csr"
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" "subjectAltName=DNS:*.$domain,DNS:$domain" >"$ext"
  openssl x509 -req -in "$csr" -CA "$gateway_ca" -CAkey "$ca_key" -CAcreateserial -days 365 \
    -extfile "$ext" -out "$gateway_cert" 2>/dev/null \
    || { log "openssl could not sign the gateway certificate"; exit 1; }
  rm -f "$csr" "$ext" "$dir/gateway-ca.srl"
}

# spki_sha256 CERT: what Chromium's --ignore-certificate-errors-spki-list takes (and curl's
# --pinnedpubkey sha256//...).
spki_sha256() {
  openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64
}

# start_node_site NAME KEY PORT LABEL DIR [NODE_ID]: `onebz cert` for KEY into DIR, then
# tools/node_site.py serving HTTPS on 127.0.0.1:PORT with it; ready once it accepts
# connections (no request: a test counts the requests a site gets).
start_node_site() {
  local name=$1 key=$2 port=$3 label=$4 dir=$5 node_id=${6:-}
  "$bin_dir/onebz" cert --key "$key" --name "$name" --out "$dir" >/dev/null
  start "site-$label" python3 "$top/tools/node_site.py" --listen "127.0.0.1:$port" \
    --cert "$dir/cert.pem" --key "$dir/key.pem" --label "$label" ${node_id:+--node-id "$node_id"}
  wait_ready "site-$label" port_busy "$port"
}

# wait_tlsa NAME PORT DNS_PORT: onebzd serves the node's TLSA (from its signed record).
wait_tlsa() {
  wait_ready "the TLSA of $1" sh -c "dig @127.0.0.1 -p $3 +short +time=2 +tries=1 _$2._tcp.$1 TLSA | grep -q ."
}

# start_web_gateway PORT DOMAIN DNS_PORT ANCHOR [ARGS...]: onebz-web over HTTPS (HTTP/2
# and HTTP/1.1) on 127.0.0.1:PORT with $gateway_cert, validating from ANCHOR (onebzd's DS)
# through onebzd on DNS_PORT, allowed to reach loopback nodes; ready once /healthz answers
# on the bare domain over TLS checked against $gateway_ca.
start_web_gateway() {
  local port=$1 domain=$2 dns_port=$3 anchor=$4; shift 4
  start onebz-web "$bin_dir/onebz-web" --listen "127.0.0.1:$port" --domain "$domain" \
    --resolver "127.0.0.1@$dns_port" --trust-anchor "$anchor" --tls-cert "$gateway_cert" --tls-key "$gateway_key" \
    --allow-loopback-nodes --access-log "$stack_state/onebz-web-access.log" "$@"
  wait_ready onebz-web curl -sf -o /dev/null --cacert "$gateway_ca" --resolve "$domain:$port:127.0.0.1" \
    "https://$domain:$port/healthz"
}
